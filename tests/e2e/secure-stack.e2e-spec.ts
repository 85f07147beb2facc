import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { createEvent, encodeEvent, EventTypes, eventSubject } from '@idm/contracts';
import { jetstream } from '@nats-io/jetstream';
import { boundedDeadLetterRecord, connectNats, writeDeadLetter, type NatsConnectionConfig } from '@idm/messaging';
import {
  createTlsFiles,
  startNatsServer,
  startSmtpServer,
  tempDir,
  waitFor,
  type NatsServerHandle,
  type SmtpServerHandle,
  type TlsFiles,
} from '@idm/testing';
import { startApp, type AppProcess } from './app-process.fixture.js';
import { EventLog } from './event-log.js';

/**
 * The shipped secure path, end to end: `idm nats-config` generates the permissions and one nkey
 * per role, nats-server runs with them and with mutual TLS (certificates made with openssl here),
 * `idm setup` creates the streams with the admin identity, then the scheduler, the notifier and
 * password-sync run as processes with their own identities only. A user added by the
 * directory-source identity gets its email; a password sent by the password-writer identity is
 * applied through the connector identity. Clients without a certificate, with a certificate from
 * another CA, or without TLS are refused.
 */

const CLI = fileURLToPath(new URL('../../apps/cli/main.js', import.meta.url));
const CONNECTOR = 'idm.directory.connector';
type Role =
  'admin' | 'scheduler' | 'notifier' | 'password-sync' | 'directory-source' | 'password-writer' | 'password-connector' | 'console';

/** Runs `idm <args>` with `env` only (plus PATH); resolves with its exit code and output. */
function idm(args: readonly string[], env: Record<string, string>, input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** `KEY=value` lines of a generated `<role>.env` file. */
function readEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

describe('secure stack: generated permissions + mutual TLS, every app with its own identity (processes)', () => {
  const stream = `SEC_${randomBytes(3).toString('hex').toUpperCase()}`;
  const dir = tempDir('idm-secure');
  const logDir = tempDir('idm-secure-logs');
  let tls: TlsFiles;
  let nats: NatsServerHandle;
  let smtp: SmtpServerHandle;
  const apps: AppProcess[] = [];
  let log: EventLog;
  let connector: NatsConnection;
  let connectorSub: Subscription;
  const applied: string[] = [];

  const tlsEnv = (): Record<string, string> => ({
    NATS_TLS_CA_FILE: tls.caFile,
    NATS_TLS_CERT_FILE: tls.clientCertFile,
    NATS_TLS_KEY_FILE: tls.clientKeyFile,
  });
  const envOf = (role: Role): Record<string, string> => ({ NATS_URL: nats.url, ...readEnvFile(join(dir, `${role}.env`)), ...tlsEnv() });
  const connectionOf = (role: Role): NatsConnectionConfig => {
    const e = envOf(role);
    return {
      url: nats.url,
      name: `secure-${role}`,
      nkeySeedFile: e.NATS_NKEY_SEED_FILE,
      inboxPrefix: e.NATS_INBOX_PREFIX,
      tls: { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile },
      connectTimeoutMs: 5_000,
    };
  };

  before(async () => {
    tls = createTlsFiles(tempDir('idm-secure-pki'));
    const generated = await idm(['nats-config', '--out', dir, '--stream', stream, '--connector-subject', CONNECTOR], {});
    assert.equal(generated.code, 0, generated.stderr);
    const main = join(dir, 'nats-server.conf');
    writeFileSync(main, 'include "idm-auth.conf"\n');
    [nats, smtp] = await Promise.all([
      startNatsServer({
        jetstream: true,
        configFile: main,
        tls: { certFile: tls.serverCertFile, keyFile: tls.serverKeyFile, verifyClientsWith: tls.caFile },
      }),
      startSmtpServer({ mode: 'accept' }),
    ]);
  });

  after(async () => {
    connectorSub?.unsubscribe();
    await connector?.close();
    await log?.close();
    await Promise.all(apps.map((a) => a.stop()));
    await smtp?.dispose();
    await nats?.dispose();
  });

  it('requires TLS and refuses a client without a certificate or with a certificate of another CA', async () => {
    const seed = envOf('admin').NATS_NKEY_SEED_FILE;
    await assert.rejects(
      connectNats({ url: nats.url, name: 'no-cert', nkeySeedFile: seed, tls: { caFile: tls.caFile }, connectTimeoutMs: 5_000 }),
    );
    await assert.rejects(
      connectNats({
        url: nats.url,
        name: 'stranger',
        nkeySeedFile: seed,
        tls: { caFile: tls.caFile, certFile: tls.strangerCertFile, keyFile: tls.strangerKeyFile },
        connectTimeoutMs: 5_000,
      }),
    );
    // What a plain-text client is told first: TLS is required, and a client certificate verified.
    const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port: nats.port });
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString('utf8');
        const line = /^INFO (\{.*\})\s*\r\n/.exec(text);
        if (line) {
          socket.destroy();
          resolve(JSON.parse(line[1]!) as Record<string, unknown>);
        }
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`the server closed the connection before its INFO line: ${text}`)));
    });
    assert.equal(info.tls_required, true);
    assert.equal(info.tls_verify, true);
    assert.equal(info.auth_required, true);
    // The same identity with its certificate gets in.
    const ok = await connectNats(connectionOf('admin'));
    await ok.close();
  });

  it('an app started before idm setup stops with a message telling the operator to run it', async () => {
    const env = { ...envOf('scheduler'), HEALTH_PORT: 'off', LOG_LEVEL: 'info', EMAIL_RETRY_CRON: '* * * * * *' };
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [fileURLToPath(new URL('../../apps/scheduler/main.js', import.meta.url))], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /idm setup/, r.out);
  });

  it('idm setup refuses an app identity and works with the admin identity', async () => {
    const refused = await idm(['setup'], envOf('notifier'));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /admin/);
    const done = await idm(['setup', '--json'], envOf('admin'));
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(
      (JSON.parse(done.stdout) as { streams: Array<{ action: string }> }).streams.map((s) => s.action),
      ['created', 'created'],
    );
  });

  it('the email and password pipelines run end to end with each app on its own identity', async () => {
    log = await EventLog.open(connectionOf('admin'), stream);
    // The connector applies every password it is given (with its own, narrow identity).
    connector = await connectNats(connectionOf('password-connector'));
    connectorSub = connector.subscribe(CONNECTOR, {
      queue: 'connector',
      callback: (_err, msg) => {
        applied.push(msg.json<{ userId: string }>().userId);
        msg.respond(JSON.stringify({ status: 'applied' }));
      },
    });
    await connector.flush();
    const common = { HEALTH_PORT: 'off', LOG_LEVEL: 'info', DATA_DIR: join(logDir, 'data') };
    apps.push(
      await startApp('scheduler', { ...envOf('scheduler'), ...common, EMAIL_RETRY_CRON: '* * * * * *' }, logDir, {
        ready: /email-retry: .* → RetryEmailNotifications/,
      }),
    );
    apps.push(
      await startApp('notifier', { ...envOf('notifier'), ...common, SMTP_URL: smtp.url, MAIL_FROM: 'IDM <noreply@idm.example>' }, logDir, {
        ready: /ready: SMTP/,
      }),
    );
    apps.push(
      await startApp(
        'password-sync',
        { ...envOf('password-sync'), ...common, PASSWORD_TARGET: `nats:${CONNECTOR}`, IDM_EMBEDDED: 'true' },
        logDir,
      ),
    );

    // The directory source adds a user (it may append idm.user.* only).
    const source = await EventLog.open(connectionOf('directory-source'), stream);
    try {
      await source.publish(
        createEvent(
          EventTypes.UserAdded,
          'ada',
          { userId: 'ada', email: 'ada@example.com', displayName: 'Ada' },
          { source: '/test/directory', time: new Date() },
        ),
      );
    } finally {
      await source.close();
    }
    await waitFor(async () => (await smtp.messages()).some((m) => m.to.includes('ada@example.com')), {
      message: 'the welcome email for ada',
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    await waitFor(async () => (await log.ofType(EventTypes.EmailSent, 'ada')).length === 1, {
      message: 'EmailSent for ada',
      timeoutMs: 30_000,
      intervalMs: 200,
    });

    // The upstream IdM (password-writer identity) sets a password with the CLI.
    const set = await idm(['password', 'set', 'ada', '--json'], envOf('password-writer'), 'Secure-Pw-4711\n');
    assert.equal(set.code, 0, set.stderr);
    await waitFor(async () => (await log.ofType(EventTypes.PasswordSynced, 'ada')).length === 1, {
      message: 'PasswordSynced for ada',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    assert.deepEqual(applied, ['ada']);

    // The operator's status needs the admin identity and sees every app answering.
    const status = await idm(['status', '--json'], envOf('admin'));
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as Record<string, unknown>;
    assert.ok(s.notifier && s.passwordSync && s.scheduler, `every app answers over its identity: ${status.stdout}`);
    for (const app of apps)
      assert.doesNotMatch(app.log(), /Permissions Violation/i, `${app.name} hit a permission it lacks:\n${app.log().slice(-2000)}`);
  });

  it('the console reads everything on its read-only role, and its actions go through the admin identity', async () => {
    const consoleApp = await startApp(
      'console',
      {
        ...envOf('console'),
        LOG_LEVEL: 'info',
        CONSOLE_PORT: '0',
        CONSOLE_TOKEN: 'secure-stack-console-token',
        CONSOLE_ALLOW_ACTIONS: 'true',
        CONSOLE_ACTIONS_NKEY_SEED_FILE: envOf('admin').NATS_NKEY_SEED_FILE!,
      },
      logDir,
      { ready: /\{"console":"http/ },
    );
    apps.push(consoleApp);
    const url = /\{"console":"([^"]+)"\}/.exec(consoleApp.log())![1]!;
    const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      const res = await fetch(new URL(path, url), {
        ...init,
        headers: { authorization: 'Bearer secure-stack-console-token', 'content-type': 'application/json', ...init.headers },
      });
      assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`);
      return (await res.json()) as T;
    };
    const overview = await call<{
      apps: Array<{ name: string; up: boolean }>;
      consumers: Array<{ name: string }>;
      chart: { byType: Record<string, number[]> };
    }>('/api/overview');
    // The directory-source identity publishes here, but the app (it needs a directory) does not run.
    assert.deepEqual(
      overview.apps.filter((a) => !a.up).map((a) => a.name),
      ['directory-source'],
      'every running app answers the console role',
    );
    assert.ok(overview.consumers.some((c) => c.name === 'notifier'));
    assert.ok(overview.chart.byType[EventTypes.EmailSent], 'the chart read the log through an ordered consumer');
    const ada = await call<{ password: { state: string } | null; timeline: Array<{ events: Array<{ event: { type: string } }> }> }>(
      '/api/users/ada',
    );
    assert.equal(ada.password?.state, 'synced');
    assert.ok(ada.timeline.flatMap((g) => g.events).some((e) => e.event.type === EventTypes.EmailSent));
    const previews = await call<{ previews: Array<{ emailType: string }> }>('/api/emails/preview?userId=ada');
    assert.ok(previews.previews.some((p) => p.emailType === 'NEW_USER'));

    // A dead letter (as a consumer that gave up would store it) is retried with the admin identity.
    const admin = await connectNats(connectionOf('admin'));
    try {
      const event = createEvent(
        EventTypes.UserAdded,
        'grace',
        { userId: 'grace', email: 'grace@example.com', displayName: 'Grace' },
        { source: '/test/directory', time: new Date() },
      );
      await writeDeadLetter(
        jetstream(admin),
        boundedDeadLetterRecord(
          {
            consumer: 'notifier',
            reason: 'max-deliveries',
            code: 'IDM_TEST',
            error: 'gave up',
            stream,
            streamSequence: 1,
            subject: eventSubject(event),
            deliveryCount: 10,
            data: Buffer.from(encodeEvent(event)),
            headers: {},
            now: new Date(),
          },
          1 << 20,
        ),
      );
    } finally {
      await admin.close();
    }
    const { letters } = await call<{ letters: Array<{ seq: number; subject: string }> }>('/api/dead-letters');
    const letter = letters.find((l) => l.subject.endsWith('.grace'))!;
    assert.ok(letter, 'the console lists the dead letter');
    await call(`/api/dead-letters/${letter.seq}/retry`, { method: 'POST', body: '{}' });
    await waitFor(async () => (await log.ofType(EventTypes.UserAdded, 'grace')).length === 1, {
      message: 'the retried event is in the log',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    assert.match(consoleApp.log(), /retried dead letter/);
    assert.doesNotMatch(consoleApp.log(), /Permissions Violation/i, consoleApp.log().slice(-2000));
    await consoleApp.stop();
  });

  it('replay reads the log with the admin identity; an app identity may not create the ordered consumer it needs', async () => {
    await apps.find((a) => a.app === 'notifier')!.stop();
    const database = { DATA_DIR: join(logDir, 'data') };
    const refused = await idm(['replay', 'notifier', '--dry-run'], { ...envOf('notifier'), ...database });
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /replay of notifier failed: .*Permissions Violation/i);
    const done = await idm(['replay', 'notifier', '--dry-run', '--json'], { ...envOf('admin'), ...database });
    assert.equal(done.code, 0, done.stderr);
    const summary = JSON.parse(done.stdout) as { read: number; undecodable: number };
    assert.ok(summary.read >= 4, `read ${summary.read} events`);
    assert.equal(summary.undecodable, 0);
  });
});
