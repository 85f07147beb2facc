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

  it('idm setup creates both streams, and says unchanged the second time', async () => {
    const first = await stack.idmJson<{ streams: Array<{ stream: string; action: string }> }>(['setup']);
    assert.deepEqual(
      first.streams.map((s) => [s.stream, s.action]),
      [
        [stack.stream, 'created'],
        [`${stack.stream}_DLQ`, 'created'],
      ],
    );
    const again = await stack.idmJson<{ streams: Array<{ action: string }> }>(['setup']);
    assert.deepEqual(
      again.streams.map((s) => s.action),
      ['unchanged', 'unchanged'],
    );
  });

  it('types only an app may state are refused without --force, and nothing is appended', async () => {
    const before = (await stack.jsm.streams.info(stack.stream)).state.last_seq;
    for (const [type, fields] of [
      [
        'email-sent',
        ['--user-id', 'forged', '--email-type', 'NEW_USER', '--tick', 't1', '--message-id', '<m1@example.com>', '--attempt', '1'],
      ],
      ['password-synced', ['--user-id', 'forged']],
      ['bulk-task-tick', ['--schedule', 'nightly']],
    ] as const) {
      const refused = await stack.idm(['publish', type, ...fields]);
      assert.equal(refused.code, 1, `${type}: ${refused.stderr}`);
      assert.match(refused.stderr, /stated only by the app.*--force/);
    }
    const after = (await stack.jsm.streams.info(stack.stream)).state.last_seq;
    assert.equal(after, before);
    const password = await stack.idm(['publish', 'password-changed', '--user-id', 'forged']);
    assert.match(password.stderr, /idm password set/);
  });

  it('--force appends an app-only type (a repair)', async () => {
    const forced = await stack.idmJson<{ ok: boolean; type: string }>([
      'publish',
      'email-abandoned',
      '--force',
      '--user-id',
      'repair-1',
      '--email-type',
      'NEW_USER',
      '--last-error',
      'manual repair',
      '--attempts',
      '3',
    ]);
    assert.equal(forced.ok, true);
    assert.equal(forced.type, 'idm.email.abandoned');
  });

  it('a missing nkey seed file exits 2 naming the variable', async () => {
    const r = await stack.idm(['status'], { env: { NATS_NKEY_SEED_FILE: '/nonexistent/admin.nk' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /NATS_NKEY_SEED_FILE: cannot read the file \/nonexistent\/admin\.nk \(ENOENT\)/);
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
