import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@idm/testing';
import { CliStack, rowsOf } from './e2e/cli-stack.js';

// One live world, built step by step: each test continues from the state the previous one left.
describe('idm CLI operating the three apps (real nats-server, SMTP, SQLite)', () => {
  const stack = new CliStack();
  before(async () => {
    await stack.start();
    stack.startApp('scheduler');
    stack.startApp('notifier');
    // A short expiry for the scenario's expired password; restarted with a long one before replay.
    stack.startApp('password-sync', { PASSWORD_EXPIRATION_MINUTES: '0.1' });
    await stack.appsReady(['scheduler', 'notifier', 'password-sync']);
  });
  after(() => stack.dispose());

  it('publish adds users; password set syncs, fails on policy and expires an unknown user’s password, never echoing it', async () => {
    for (const u of ['ok-1', 'weak-1', 'ok-2']) {
      const r = await stack.idmJson<{ seq: number }>([
        'publish',
        'user-added',
        '--user-id',
        u,
        '--email',
        `${u}@example.com`,
        '--display-name',
        `User ${u}`,
      ]);
      assert.ok(r.seq > 0);
    }
    for (const u of ['ok-1', 'weak-1', 'ghost-1']) {
      const r = await stack.idm(['password', 'set', u], { input: 'S3cret-pass\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /S3cret-pass/);
    }
    await waitFor(() => stack.count('idm.password.synced', 'ok-1'), { message: 'ok-1 synced', timeoutMs: 30_000, intervalMs: 200 });
    await waitFor(() => stack.count('idm.password.sync-failed', 'weak-1'), {
      message: 'weak-1 failed',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await waitFor(() => stack.count('idm.password.expired', 'ghost-1'), { message: 'ghost-1 expired', timeoutMs: 40_000, intervalMs: 200 });
    const failed = (await stack.events()).find((e) => e.type === 'idm.password.sync-failed' && e.subject === 'weak-1');
    assert.equal((failed?.data as { reason?: string } | undefined)?.reason, 'policy-violation');
    await stack.settled();
  });

  it('schedules fire sends the queued emails; with the mail server deferring, an email fails and stays pending', async () => {
    assert.equal((await stack.idm(['schedules', 'fire', 'email-retry'])).code, 0);
    await waitFor(async () => (await stack.count('idm.email.sent')) >= 3, { message: 'emails sent', timeoutMs: 30_000, intervalMs: 200 });
    await stack.settled();
    await stack.smtp.setMode('tempfail');
    await stack.idmJson(['publish', 'user-modified', '--user-id', 'ok-2', '--changes', '{"displayName":"Second"}']);
    await stack.settled();
    assert.equal((await stack.idm(['schedules', 'fire', 'email-retry'])).code, 0);
    await waitFor(() => stack.count('idm.email.failed', 'ok-2'), { message: 'email failed', timeoutMs: 30_000, intervalMs: 200 });
    await stack.settled();
    await stack.smtp.setMode('accept');
  });

  it('user shows pending emails with attempts and error, and a password’s state without its secret; an unknown user exits 1', async () => {
    const user = await stack.idmJson<{ emails: { pending: Array<{ emailType: string; attempts: number; lastError: string }> } }>([
      'user',
      'ok-2',
    ]);
    assert.ok(user.emails.pending.some((p) => p.attempts >= 1 && p.lastError.length > 0));
    // weak-1's password was refused, then expired (0.1 minutes).
    const weak = await waitFor(
      async () => {
        const u = await stack.idmJson<{ password: { state: string; attempts: number } }>(['user', 'weak-1']);
        return u.password.state === 'expired' ? u : undefined;
      },
      { message: 'weak-1 expired', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.ok(weak.password.attempts >= 1);
    assert.doesNotMatch(JSON.stringify(weak), /S3cret|ciphertext/);
    const human = await stack.idm(['user', 'weak-1']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /expired/);
    const unknown = await stack.idm(['user', 'nobody-at-all']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown user/);
  });

  it('status shows the stream, consumer lag and each app’s pending work, as JSON and as a plain table', async () => {
    const status = await stack.idmJson<{
      stream: { messages: number };
      consumers: Array<{ name: string; lag: number }>;
      notifier: { pendingByType: Record<string, number>; instances: Array<{ live: boolean }> };
      scheduler: { schedules: unknown[] };
    }>(['status']);
    assert.ok(status.stream.messages > 10);
    assert.ok(status.consumers.some((c) => c.name === 'notifier'));
    assert.ok((status.notifier.pendingByType.PROFILE_CHANGED ?? 0) >= 1);
    assert.deepEqual(
      status.notifier.instances.map((i) => i.live),
      [true],
      'the running notifier holds a live lease',
    );
    assert.equal(status.scheduler.schedules.length, 1);
    const table = await stack.idm(['status']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /consumers/);
    // Which key sealed the cached passwords, so an operator knows when a previous key can go.
    assert.match(table.stdout, /cache key [0-9a-f]{16}: 0 cached under a previous key/);
    assert.equal(table.stdout.includes(String.fromCharCode(27)), false); // NO_COLOR and not a TTY
  });

  it('tail prints stored events, filtered by type', async () => {
    const run = await stack.idm(['tail', 'user-added', '--all', '--limit', '3', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: { subject: string } });
    assert.deepEqual(
      lines.map((l) => l.event.subject),
      ['ok-1', 'weak-1', 'ok-2'],
    );
  });

  it('replay rebuilds each app into a fresh database identical to the live one, appending nothing and mailing nothing', async () => {
    // A password still cached when the apps stop: password-sync again, with a long expiry.
    await stack.stopApp('password-sync');
    stack.startApp('password-sync', { PASSWORD_EXPIRATION_MINUTES: '60' });
    await stack.appsReady(['password-sync']);
    const r = await stack.idm(['password', 'set', 'weak-2'], { input: 'x\n' });
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => stack.count('idm.password.sync-failed', 'weak-2'), {
      message: 'weak-2 failed',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await stack.settled();
    await stack.stopApp('notifier');
    await stack.stopApp('password-sync');
    await stack.stopApp('scheduler');
    const seqBefore = await stack.lastSeq();
    const mailsBefore = (await stack.smtp.messages()).length;

    const fresh = { env: { DATA_DIR: stack.freshDir } };
    const n = await stack.idmJson<{ read: number; lastSeq: number }>(['replay', 'notifier'], fresh);
    assert.equal(n.lastSeq, seqBefore);
    const { dataDir, freshDir } = stack;
    assert.ok(rowsOf(dataDir, 'notifier', 'pending_email', 'user_id').length >= 1);
    assert.deepEqual(rowsOf(freshDir, 'notifier', 'recipient', 'user_id'), rowsOf(dataDir, 'notifier', 'recipient', 'user_id'));
    assert.deepEqual(
      rowsOf(freshDir, 'notifier', 'pending_email', 'user_id, email_type'),
      rowsOf(dataDir, 'notifier', 'pending_email', 'user_id, email_type'),
    );

    const p = await stack.idm(['replay', 'password-sync', '--json'], fresh);
    assert.equal(p.code, 0, p.stderr);
    const live = rowsOf(dataDir, 'password-sync', 'password_cache', 'user_id');
    const rebuilt = rowsOf(freshDir, 'password-sync', 'password_cache', 'user_id');
    assert.deepEqual(new Set(live.map((row) => row.state)), new Set(['synced', 'expired', 'cached']));
    assert.equal(rebuilt.length, live.length);
    // Every settled entry is identical; the log never held a secret, so an entry still cached
    // comes back 'discarded' in a database that never had its row.
    for (const [i, row] of live.entries()) {
      if (row.state === 'cached') {
        assert.equal(rebuilt[i]!.state, 'discarded');
        assert.equal(rebuilt[i]!.ciphertext, null);
      } else assert.deepEqual(rebuilt[i], row);
    }

    // Replayed in place, the cached rows keep their sealed secret and everything stays identical.
    const inPlace = await stack.idm(['replay', 'password-sync']);
    assert.equal(inPlace.code, 0, inPlace.stderr);
    assert.match(inPlace.stdout, /replay of password-sync/);
    assert.deepEqual(rowsOf(dataDir, 'password-sync', 'password_cache', 'user_id'), live);

    const dry = await stack.idmJson<{ dryRun: boolean }>(['replay', 'notifier', '--from-seq', '1', '--dry-run']);
    assert.equal(dry.dryRun, true);

    // No side effect: nothing appended, nothing mailed.
    assert.equal(await stack.lastSeq(), seqBefore);
    assert.equal((await stack.smtp.messages()).length, mailsBefore);
  });
});
