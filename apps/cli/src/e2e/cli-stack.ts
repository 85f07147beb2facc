import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { IdmEvent } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import {
  appProcessEnv,
  fakeConnectorPasswordSyncEnv,
  fakePasswordConnector,
  startNatsServer,
  startSmtpServer,
  stopChild,
  storedEvents,
  tempDir,
  waitFor,
  type NatsServerHandle,
  type SmtpServerHandle,
} from '@idm/testing';

// The CLI, the apps and their replay entry points are driven as the operator would: real processes.
const DIST_APPS = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(DIST_APPS, 'cli', 'main.js');

/** Longest one CLI invocation may take before the spec kills it and fails (a hang must fail, not stall the file). */
const CLI_TIMEOUT_MS = 45_000;
/** Longest an app may take to stop on SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

export type AppName = 'scheduler' | 'notifier' | 'password-sync';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Sqlite {
  prepare(sql: string): { all(): Array<Record<string, unknown>> };
  close(): void;
}
const BetterSqlite = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options?: { readonly?: boolean }) => Sqlite;

/** Every row of a table, ordered, read straight from an app's SQLite file (verification only). */
export function rowsOf(dataDir: string, app: string, table: string, orderBy: string): Array<Record<string, unknown>> {
  const db = new BetterSqlite(join(dataDir, `${app}.sqlite`), { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY ${orderBy}`).all();
  } finally {
    db.close();
  }
}

/** The subject of the stack's fake password connector. */
const CONNECTOR = 'connector.passwords';

/** The environment each app gets on top of the stack's. */
export const APP_ENV: Record<AppName, NodeJS.ProcessEnv> = {
  // Ticks come only from `idm schedules fire`: a real */5 tick landing mid-file would send what a
  // spec expects to find still pending. Once a year, at a time no run reaches.
  scheduler: { EMAIL_RETRY_CRON: '0 0 1 1 *' },
  notifier: { MAIL_FROM: 'IDM <noreply@idm.example>' },
  'password-sync': fakeConnectorPasswordSyncEnv(CONNECTOR),
};

/**
 * One test file's world: its own nats-server (so stream names never collide), an SMTP server,
 * a fake password connector answering by user-id prefix (`ok-` applied, `weak-` policy violation,
 * anything else user-not-found), the apps as child processes with stderr visible, and the CLI.
 * Every child has a deadline; {@link dispose} kills whatever is still running.
 */
export class CliStack {
  readonly stream = `CLI_${randomBytes(3).toString('hex')}`;
  readonly dataDir = tempDir('idm-cli-live');
  readonly freshDir = tempDir('idm-cli-fresh');
  nats!: NatsServerHandle;
  smtp!: SmtpServerHandle;
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  env!: NodeJS.ProcessEnv;
  private connector: Subscription | undefined;
  private readonly apps = new Map<AppName, ChildProcess>();
  private readonly clis = new Set<ChildProcess>();

  async start(): Promise<void> {
    this.nats = await startNatsServer({ jetstream: true });
    this.smtp = await startSmtpServer({ mode: 'accept' });
    this.nc = await connectNats({ url: this.nats.url, name: 'cli-spec' });
    this.jsm = await jetstreamManager(this.nc);
    this.connector = fakePasswordConnector(this.nc, CONNECTOR, ({ userId }) => {
      const status = userId.startsWith('ok-') ? 'applied' : userId.startsWith('weak-') ? 'policy-violation' : 'user-not-found';
      return { status, message: status === 'policy-violation' ? 'too short' : undefined };
    });
    this.env = appProcessEnv({
      natsUrl: this.nats.url,
      stream: this.stream,
      dataDir: this.dataDir,
      smtpUrl: this.smtp.url,
      logLevel: 'warn',
    });
  }

  /** Runs `idm <args>`; killed and failed after {@link CLI_TIMEOUT_MS}. */
  idm(args: readonly string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...this.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      this.clis.add(child);
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`idm ${args.join(' ')} did not finish within ${CLI_TIMEOUT_MS} ms; stderr: ${stderr}`));
      }, CLI_TIMEOUT_MS);
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        this.clis.delete(child);
        resolve({ code: code ?? 1, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
  }

  /** `idm <args> --json`, which must succeed; its stdout parsed. */
  async idmJson<T>(args: readonly string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<T> {
    const run = await this.idm([...args, '--json'], options);
    assert.equal(run.code, 0, `idm ${args.join(' ')} failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as T;
  }

  startApp(app: AppName, extra: NodeJS.ProcessEnv = {}): void {
    const child = spawn(process.execPath, [join(DIST_APPS, app, 'main.js')], {
      env: { ...this.env, ...APP_ENV[app], ...extra },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.apps.set(app, child);
  }

  /** SIGTERM, then SIGKILL after {@link STOP_TIMEOUT_MS}; resolves when the process has exited. */
  async stopApp(app: AppName): Promise<void> {
    const child = this.apps.get(app);
    this.apps.delete(app);
    if (!child) return;
    // Visible in the spec output: a stop that needs SIGKILL is a shutdown bug of the app.
    await stopChild(child, STOP_TIMEOUT_MS, () =>
      process.stderr.write(`cli-stack: ${app} did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM: killed\n`),
    );
  }

  /** Waits until each running app answers the CLI. */
  async appsReady(apps: readonly AppName[]): Promise<void> {
    const answers = async (): Promise<Record<string, unknown>> =>
      JSON.parse((await this.idm(['status', '--json'])).stdout || '{}') as Record<string, unknown>;
    const key = { scheduler: 'scheduler', notifier: 'notifier', 'password-sync': 'passwordSync' } as const;
    await waitFor(
      async () => {
        const status = await answers();
        return apps.every(
          (a) =>
            (status[key[a]] as { ok?: boolean } | null)?.ok === true ||
            (a === 'scheduler' && Array.isArray((status.scheduler as { schedules?: unknown } | null)?.schedules)),
        );
      },
      { message: `apps answering: ${apps.join(', ')}`, timeoutMs: 60_000, intervalMs: 500 },
    );
  }

  /** Every decodable event in the stream, in order. */
  events(): Promise<IdmEvent[]> {
    // The dead-letter spec appends an undecodable message on purpose.
    return storedEvents(this.jsm, this.stream, { undecodable: 'skip' });
  }

  async count(type: string, userId?: string): Promise<number> {
    return (await this.events()).filter((e) => e.type === type && (userId === undefined || e.subject === userId)).length;
  }

  async lastSeq(): Promise<number> {
    return (await this.jsm.streams.info(this.stream)).state.last_seq;
  }

  /** Every durable consumer has been delivered and has settled everything in the stream. */
  async settled(): Promise<void> {
    await waitFor(
      async () => {
        for await (const c of this.jsm.consumers.list(this.stream)) if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
        return true;
      },
      { message: 'consumers caught up', timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  async dispose(): Promise<void> {
    for (const child of this.clis) child.kill('SIGKILL');
    for (const app of [...this.apps.keys()]) await this.stopApp(app);
    this.connector?.unsubscribe();
    await this.nc?.close();
    await this.smtp?.dispose();
    await this.nats?.dispose();
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.freshDir, { recursive: true, force: true });
  }
}
