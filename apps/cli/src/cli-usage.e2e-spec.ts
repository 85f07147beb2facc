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
    // UserAdded needs only a user id since email became optional; UserRemoved needs a reason.
    const badField = await stack.idm(['publish', 'user-removed', '--user-id', 'x']);
    assert.equal(badField.code, 2);
    assert.match(badField.stderr, /invalid UserRemoved.*reason/);
  });

  it('an unreachable NATS server exits 1 with a clear message', async () => {
    const down = await stack.idm(['status', '--server', 'nats://127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /NATS server unreachable/);
  });

  it('the scheduler has nothing to replay: exit 2', async () => {
    assert.equal((await stack.idm(['replay', 'scheduler'])).code, 2);
  });
});
