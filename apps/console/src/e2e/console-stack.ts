import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { encodeEvent, eventSubject, type IdmEvent } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import {
  appProcessEnv,
  fakeConnectorPasswordSyncEnv,
  fakePasswordConnector,
  startNatsServer,
  startSmtpServer,
  stopChild,
  tempDir,
  type NatsServerHandle,
  type SmtpServerHandle,
} from '@idm/testing';

const DIST_APPS = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the browser specs keep their screenshots (gitignored). */
export const SCREENSHOT_DIR = join(DIST_APPS, '..', '..', 'artifacts', 'console');
/** Debian's Chromium; the browser specs skip visibly without it. */
export const CHROMIUM = '/usr/bin/chromium';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export type StackApp = 'scheduler' | 'notifier' | 'password-sync';

/** The subject of the stack's fake password connector. */
const CONNECTOR = 'connector.passwords';

const APP_ENV: Record<StackApp, NodeJS.ProcessEnv> = {
  scheduler: {},
  notifier: { MAIL_FROM: 'IDM <noreply@idm.example>' },
  // The fake connector below refuses every user it does not know: passwords stay cached.
  'password-sync': fakeConnectorPasswordSyncEnv(CONNECTOR),
};

/** A running console process and its URL. */
export interface ConsoleProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it wrote on stderr (its logs), for the audit assertions. */
  logs(): string;
}

/**
 * One browser spec file's world: its own nats-server and SMTP server, the apps as child
 * processes, a fake password connector (`ok-…` applied, anything else user-not-found), and
 * console processes. {@link dispose} stops whatever is still running.
 */
export class ConsoleStack {
  readonly stream = `CON_${randomBytes(3).toString('hex')}`;
  readonly dataDir = tempDir('idm-console-e2e');
  /** The dev mail catcher's folder (the console's CONSOLE_MAIL_DIR). */
  readonly mailDir = tempDir('idm-console-mail');
  /** The dev stack's mail catcher (scripts/dev-stack/mail-catcher.mjs), started by {@link startMailCatcher}. */
  catcher: { smtpPort: number; close(): Promise<void> } | undefined;
  nats!: NatsServerHandle;
  smtp!: SmtpServerHandle;
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  env!: NodeJS.ProcessEnv;
  private connector: Subscription | undefined;
  private readonly children: ChildProcess[] = [];

  async start(): Promise<void> {
    this.nats = await startNatsServer({ jetstream: true });
    this.smtp = await startSmtpServer({ mode: 'accept' });
    this.nc = await connectNats({ url: this.nats.url, name: 'console-spec' });
    this.js = jetstream(this.nc);
    this.jsm = await jetstreamManager(this.nc);
    this.connector = fakePasswordConnector(this.nc, CONNECTOR, ({ userId }) => ({
      status: userId.startsWith('ok-') ? 'applied' : 'user-not-found',
    }));
    const env = appProcessEnv({
      natsUrl: this.nats.url,
      stream: this.stream,
      dataDir: this.dataDir,
      smtpUrl: this.smtp.url,
      logLevel: 'info',
    });
    // The console specs set its CONSOLE_* settings per process.
    for (const k of Object.keys(env)) if (k.startsWith('CONSOLE_')) delete env[k];
    this.env = env;
  }

  /** Starts the dev stack's own mail catcher on free loopback ports, storing into {@link mailDir}. */
  async startMailCatcher(): Promise<number> {
    const mod = (await import(join(DIST_APPS, '..', '..', 'scripts', 'dev-stack', 'mail-catcher.mjs'))) as {
      startMailCatcher(o: {
        dir: string;
        smtpPort: number;
        httpPort: number;
        log: (m: string) => void;
      }): Promise<{ smtpPort: number; close(): Promise<void> }>;
    };
    this.catcher = await mod.startMailCatcher({ dir: this.mailDir, smtpPort: 0, httpPort: 0, log: () => undefined });
    return this.catcher.smtpPort;
  }

  startApp(app: StackApp): void {
    const child = spawn(process.execPath, [join(DIST_APPS, app, 'main.js')], {
      env: { ...this.env, ...APP_ENV[app], LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.children.push(child);
  }

  /** Starts `dist/apps/console/main.js` on a free loopback port; resolves with its URL once it listens. */
  startConsole(extra: NodeJS.ProcessEnv): Promise<ConsoleProcess> {
    const child = spawn(process.execPath, [join(DIST_APPS, 'console', 'main.js')], {
      env: { ...this.env, CONSOLE_HOST: '127.0.0.1', CONSOLE_PORT: '0', ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`console did not start within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`console exited with ${code}: ${stderr}`));
      });
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString('utf8');
        const line = stdout.split('\n').find((l) => l.startsWith('{"console"'));
        if (!line) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ url: (JSON.parse(line) as { console: string }).console, child, logs: () => stderr + stdout });
      });
    });
  }

  /** Runs an app's replay entry point (`dist/apps/<app>/replay.js`) to the end; resolves with its exit code. */
  replay(app: 'notifier' | 'password-sync', args: readonly string[]): Promise<number> {
    const child = spawn(process.execPath, [join(DIST_APPS, app, 'replay.js'), ...args], {
      env: { ...this.env, ...APP_ENV[app], LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.children.push(child);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  }

  /** Appends an event as an app would (with its id as the message id). */
  async publish(event: IdmEvent): Promise<number> {
    return (await this.js.publish(eventSubject(event), encodeEvent(event), { msgID: event.id })).seq;
  }

  screenshotDir(): string {
    if (!existsSync(SCREENSHOT_DIR)) mkdirSync(SCREENSHOT_DIR, { recursive: true });
    return SCREENSHOT_DIR;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.children.map((child) => stopChild(child, STOP_TIMEOUT_MS)));
    this.connector?.unsubscribe();
    await this.nc?.close();
    await this.smtp?.dispose();
    await this.catcher?.close();
    rmSync(this.mailDir, { recursive: true, force: true });
    await this.nats?.dispose();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
