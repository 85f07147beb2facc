import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { decodeEvent, type IdmEvent } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import { startNatsServer, startSmtpServer, tempDir, waitFor, type NatsServerHandle, type SmtpServerHandle } from '@idm/testing';

// The CLI, the apps and their replay entry points are driven as the operator would: real processes.
const DIST_APPS = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(DIST_APPS, 'cli', 'main.js');

interface Sqlite {
  prepare(sql: string): { all(): Array<Record<string, unknown>> };
  close(): void;
}
const BetterSqlite = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options?: { readonly?: boolean }) => Sqlite;

/** Every row of a table, ordered, read straight from an app's SQLite file (verification only). */
function rowsOf(dataDir: string, app: string, table: string, orderBy: string): Array<Record<string, unknown>> {
  const db = new BetterSqlite(join(dataDir, `${app}.sqlite`), { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY ${orderBy}`).all();
  } finally {
    db.close();
  }
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('idm CLI against real servers (nats-server, SMTP, the three apps, SQLite)', () => {
  let nats: NatsServerHandle;
  let smtp: SmtpServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let connector: Subscription;
  const stream = `CLI_${randomBytes(3).toString('hex')}`;
  const dataDir = tempDir('idm-cli-live');
  const freshDir = tempDir('idm-cli-fresh');
  const apps = new Map<string, ChildProcess>();
  let env: NodeJS.ProcessEnv;

  function idm(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      child.stdin.end(options.input ?? '');
    });
  }

  async function idmJson<T>(args: readonly string[], options: { input?: string } = {}): Promise<T> {
    const run = await idm([...args, '--json'], options);
    assert.equal(run.code, 0, `idm ${args.join(' ')} failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as T;
  }

  function startApp(app: string, extra: NodeJS.ProcessEnv): void {
    const child = spawn(process.execPath, [join(DIST_APPS, app, 'main.js')], { env: { ...env, ...extra }, stdio: ['ignore', 'ignore', 'inherit'] });
    apps.set(app, child);
  }

  async function stopApp(app: string): Promise<void> {
    const child = apps.get(app);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async function events(): Promise<IdmEvent[]> {
    const info = await jsm.streams.info(stream);
    const out: IdmEvent[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (m) {
        try {
          out.push(decodeEvent(m.data));
        } catch {
          // the undecodable message of the dead-letter test
        }
      }
    }
    return out;
  }
  const count = async (type: string, userId?: string): Promise<number> =>
    (await events()).filter((e) => e.type === type && (userId === undefined || e.subject === userId)).length;

  async function settled(): Promise<void> {
    await waitFor(
      async () => {
        for await (const c of jsm.consumers.list(stream)) if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
        return true;
      },
      { message: 'consumers caught up', timeoutMs: 30_000 },
    );
  }

  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    smtp = await startSmtpServer({ mode: 'accept' });
    nc = await connectNats({ url: nats.url, name: 'cli-spec' });
    jsm = await jetstreamManager(nc);
    // The password target: a connector answering by user id.
    connector = nc.subscribe('connector.passwords', {
      callback: (_err, msg) => {
        const { userId } = msg.json<{ userId: string }>();
        const status = userId.startsWith('ok-') ? 'applied' : userId.startsWith('weak-') ? 'policy-violation' : 'user-not-found';
        msg.respond(JSON.stringify({ status, message: status === 'policy-violation' ? 'too short' : undefined }));
      },
    });
    env = { ...process.env, NATS_URL: nats.url, IDM_STREAM: stream, DATA_DIR: dataDir, DATABASE_URL: '', NO_COLOR: '1', LOG_LEVEL: 'warn', HEALTH_PORT: '0' };
    delete env.DATABASE_URL;
    startApp('scheduler', {});
    startApp('notifier', { SMTP_URL: smtp.url, MAIL_FROM: 'IDM <noreply@idm.example>' });
    startApp('password-sync', {
      PASSWORD_TARGET: 'nats:connector.passwords',
      IDM_EMBEDDED: 'true',
      PASSWORD_EXPIRATION_MINUTES: '0.1',
      SOURCE_POLLING_INTERVAL_SECONDS: '1',
      PASSWORD_SWEEP_INTERVAL_SECONDS: '1',
    });
    await waitFor(async () => (await idm(['schedules', 'list'])).code === 0, { message: 'scheduler up', timeoutMs: 30_000 });
    await waitFor(async () => JSON.parse((await idm(['status', '--json'])).stdout || '{}').passwordSync?.ok === true, { message: 'apps up', timeoutMs: 30_000 });
    await waitFor(async () => JSON.parse((await idm(['status', '--json'])).stdout || '{}').notifier?.ok === true, { message: 'notifier up', timeoutMs: 30_000 });
  });

  after(async () => {
    for (const app of apps.keys()) await stopApp(app);
    connector?.unsubscribe();
    await nc?.close();
    await smtp?.dispose();
    await nats?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(freshDir, { recursive: true, force: true });
  });

  it('bad flags, unknown commands and an unreachable server fail with a clear message and a non-zero exit', async () => {
    const bad = await idm(['tail', '--bogus']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^idm: .*bogus/);
    assert.equal((await idm(['frobnicate'])).code, 2);
    const badField = await idm(['publish', 'user-added', '--user-id', 'x']);
    assert.equal(badField.code, 2);
    assert.match(badField.stderr, /invalid UserAdded/);
    const down = await idm(['status', '--server', 'nats://127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /NATS server unreachable/);
  });

  it('runs a live scenario: users added and modified, emails sent and failed, passwords synced, failed and expired', async () => {
    for (const u of ['ok-1', 'weak-1', 'ok-2']) {
      const r = await idmJson<{ seq: number }>(['publish', 'user-added', '--user-id', u, '--email', `${u}@example.com`, '--display-name', `User ${u}`]);
      assert.ok(r.seq > 0);
    }
    // Passwords: synced, refused by policy, for a user the directory does not have (expires).
    for (const u of ['ok-1', 'weak-1', 'ghost-1']) {
      const r = await idm(['password', 'set', u], { input: 'S3cret-pass\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /S3cret-pass/);
    }
    await waitFor(() => count('idm.password.synced', 'ok-1'), { message: 'ok-1 synced', timeoutMs: 20_000 });
    await waitFor(() => count('idm.password.sync-failed', 'weak-1'), { message: 'weak-1 failed', timeoutMs: 20_000 });
    await waitFor(() => count('idm.password.expired', 'ghost-1'), { message: 'ghost-1 expired', timeoutMs: 30_000 });
    // Emails: the first tick sends everything queued so far.
    await settled();
    assert.equal((await idm(['schedules', 'fire', 'email-retry'])).code, 0);
    await waitFor(async () => (await count('idm.email.sent')) >= 3, { message: 'emails sent', timeoutMs: 30_000 });
    await settled();
    // A modification while the mail server defers: EmailFailed, still pending with attempts and error.
    await smtp.setMode('tempfail');
    await idmJson(['publish', 'user-modified', '--user-id', 'ok-2', '--changes', '{"displayName":"Second"}']);
    await settled();
    await idm(['schedules', 'fire', 'email-retry']);
    await waitFor(() => count('idm.email.failed', 'ok-2'), { message: 'email failed', timeoutMs: 30_000 });
    await settled();

    const user = await idmJson<{ emails: { pending: Array<{ emailType: string; attempts: number; lastError: string }> }; password: unknown }>(['user', 'ok-2']);
    assert.equal(user.emails.pending.length >= 1, true);
    assert.ok(user.emails.pending.some((p) => p.attempts >= 1 && p.lastError.length > 0));
    const weak = await idmJson<{ password: { state: string; reason: string; attempts: number; expiresAt: string } }>(['user', 'weak-1']);
    assert.equal(weak.password.reason, 'policy-violation');
    assert.doesNotMatch(JSON.stringify(weak), /S3cret|ciphertext/);
    const human = await idm(['user', 'weak-1']);
    assert.match(human.stdout, /policy-violation/);

    const unknown = await idm(['user', 'nobody-at-all']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown user/);

    const status = await idmJson<{ stream: { messages: number }; consumers: Array<{ name: string; lag: number }>; notifier: { pendingByType: Record<string, number> }; passwordSync: { cached: number }; scheduler: { schedules: unknown[] } }>([
      'status',
    ]);
    assert.ok(status.stream.messages > 10);
    assert.ok(status.consumers.some((c) => c.name === 'notifier'));
    assert.ok((status.notifier.pendingByType.PROFILE_CHANGED ?? 0) >= 1);
    assert.equal(status.scheduler.schedules.length, 1);
    const table = await idm(['status']);
    assert.match(table.stdout, /consumers/);
    assert.doesNotMatch(table.stdout, /\u001b\[/); // NO_COLOR and not a TTY
  });

  it('tail prints stored events, filtered by type', async () => {
    const run = await idm(['tail', 'user-added', '--all', '--limit', '3', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: IdmEvent });
    assert.deepEqual(lines.map((l) => l.event.subject), ['ok-1', 'weak-1', 'ok-2']);
  });

  it('dead letters: an undecodable message is listed, retried (re-appended) and dropped', async () => {
    await jetstream(nc).publish('idm.user.added.broken', 'not json');
    let letters: Array<{ seq: number; consumer: string; reason: string }> = [];
    await waitFor(
      async () => {
        letters = await idmJson(['dlq', 'list']);
        return letters.length >= 1;
      },
      { message: 'dead letter recorded', timeoutMs: 20_000 },
    );
    assert.equal(letters[0]!.reason, 'undecodable');
    const retried = await idmJson<Array<{ action: string }>>(['dlq', 'retry', String(letters[0]!.seq)]);
    assert.equal(retried[0]!.action, 'retried');
    await settled();
    const all = await idmJson<Array<{ seq: number }>>(['dlq', 'list']);
    const dropped = await idmJson<Array<{ action: string }>>(['dlq', 'drop', '--all']);
    assert.equal(dropped.length, all.length);
    assert.deepEqual(await idmJson(['dlq', 'list']), []);
  });

  it('replays each app into a fresh database: every projection table is identical to the live one', async () => {
    // One password still cached when the apps stop: its secret exists only in the live row.
    await idm(['password', 'set', 'weak-2'], { input: 'x\n' });
    await waitFor(() => count('idm.password.sync-failed', 'weak-2'), { message: 'weak-2 failed', timeoutMs: 20_000 });
    await settled();
    await stopApp('notifier');
    await stopApp('password-sync');
    const eventsBefore = (await jsm.streams.info(stream)).state.messages;
    const mailsBefore = (await smtp.messages()).length;

    const fresh = { env: { DATA_DIR: freshDir } };
    const n = await idm(['replay', 'notifier', '--json'], fresh);
    assert.equal(n.code, 0, n.stderr);
    assert.equal((JSON.parse(n.stdout) as { read: number }).read, eventsBefore);
    assert.deepEqual(rowsOf(freshDir, 'notifier', 'recipient', 'user_id'), rowsOf(dataDir, 'notifier', 'recipient', 'user_id'));
    assert.deepEqual(rowsOf(freshDir, 'notifier', 'pending_email', 'user_id, email_type'), rowsOf(dataDir, 'notifier', 'pending_email', 'user_id, email_type'));
    assert.ok(rowsOf(dataDir, 'notifier', 'pending_email', 'user_id').length >= 1);

    const p = await idm(['replay', 'password-sync', '--json'], fresh);
    assert.equal(p.code, 0, p.stderr);
    const live = rowsOf(dataDir, 'password-sync', 'password_cache', 'user_id');
    const rebuilt = rowsOf(freshDir, 'password-sync', 'password_cache', 'user_id');
    assert.ok(live.some((r) => r.state === 'expired') && live.some((r) => r.state === 'synced') && live.some((r) => r.state === 'cached'));
    // Every settled entry is identical; the log never held a secret, so an entry still cached
    // comes back 'discarded' in a database that never had its row.
    for (const [i, row] of live.entries()) {
      if (row.state === 'cached') {
        assert.equal(rebuilt[i]!.state, 'discarded');
        assert.equal(rebuilt[i]!.ciphertext, null);
      } else assert.deepEqual(rebuilt[i], row);
    }

    // Replayed in place, the cached rows keep their sealed secret and everything stays identical.
    const inPlace = await idm(['replay', 'password-sync']);
    assert.equal(inPlace.code, 0, inPlace.stderr);
    assert.match(inPlace.stdout, /replay of password-sync/);
    assert.deepEqual(rowsOf(dataDir, 'password-sync', 'password_cache', 'user_id'), live);

    // No side effect: nothing appended, nothing mailed.
    assert.equal((await jsm.streams.info(stream)).state.messages, eventsBefore);
    assert.equal((await smtp.messages()).length, mailsBefore);

    const dry = await idmJson<{ dryRun: boolean }>(['replay', 'notifier', '--from-seq', '1', '--dry-run']);
    assert.equal(dry.dryRun, true);
    assert.equal((await idm(['replay', 'scheduler'])).code, 2);
  });
});
