import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CliStack } from './e2e/cli-stack.js';

describe('idm CLI: usage errors and an unreachable server', () => {
  const stack = new CliStack();
  before(() => stack.start());
  after(() => stack.dispose());

  it('a bad flag exits 2 naming the flag', async () => {
    const bad = await stack.idm(['tail', '--bogus']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^idm: .*bogus/);
  });

  it('an unknown command exits 2', async () => {
    assert.equal((await stack.idm(['frobnicate'])).code, 2);
  });

  it('an event missing required fields exits 2 naming the event type', async () => {
    const badField = await stack.idm(['publish', 'user-added', '--user-id', 'x']);
    assert.equal(badField.code, 2);
    assert.match(badField.stderr, /invalid UserAdded/);
  });

  it('an unreachable NATS server exits 1 with a clear message', async () => {
    const down = await stack.idm(['status', '--server', 'nats://127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /NATS server unreachable/);
  });

  it('a password that is not UTF-8 is refused before anything is sent: exit 2', async () => {
    const run = await stack.idm(['password', 'set', 'u1'], { input: Buffer.from([0x50, 0xe4, 0x73, 0x73, 0x0a]) });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /the password is not valid UTF-8/);
  });

  it('the scheduler has nothing to replay: exit 2', async () => {
    assert.equal((await stack.idm(['replay', 'scheduler'])).code, 2);
  });
});
