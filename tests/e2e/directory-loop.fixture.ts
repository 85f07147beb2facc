import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startApp, type AppProcess } from './app-process.fixture.js';

/** Where {@link startDirectoryLoop} runs the apps and which directory they read and write. */
export interface DirectoryLoopOptions {
  readonly natsUrl: string;
  readonly stream: string;
  /** Each app's data folder and log file go here. */
  readonly workDir: string;
  readonly smtpUrl: string;
  /** `SOURCE_*` settings of the directory source: the directory it reads. */
  readonly sourceEnv: Readonly<Record<string, string>>;
  /** `PASSWORD_TARGET*` settings of password-sync: the same directory, written. */
  readonly targetEnv: Readonly<Record<string, string>>;
}

/** The closed loop's three processes. */
export interface DirectoryLoop {
  readonly source: AppProcess;
  readonly passwordSync: AppProcess;
  readonly notifier: AppProcess;
  /** Stops the source, then password-sync, then the notifier (SIGTERM, as in production). */
  stop(): Promise<void>;
}

/**
 * The directory closed loop with every app a process on one stream: the directory source polling
 * every second, password-sync caching for 30 minutes, the notifier mailing to `smtpUrl`. Resolves
 * once the source has recorded its first-start baseline, so a spec's directory changes are news.
 */
export async function startDirectoryLoop(options: DirectoryLoopOptions, baselineTimeoutMs?: number): Promise<DirectoryLoop> {
  // HEALTH_PORT=off: fixed default ports would collide with other tests running in parallel.
  const common = {
    NATS_URL: options.natsUrl,
    IDM_STREAM: options.stream,
    IDM_ACK_WAIT_SECONDS: '10',
    HEALTH_PORT: 'off',
    SOURCE_POLLING_INTERVAL_SECONDS: '1',
  };
  const dataDir = (app: string): string => join(options.workDir, `${app}-data`);
  const source = await startApp(
    'directory-source',
    { ...common, DATA_DIR: dataDir('directory-source'), ...options.sourceEnv },
    options.workDir,
  );
  const passwordSync = await startApp(
    'password-sync',
    {
      ...common,
      DATA_DIR: dataDir('password-sync'),
      PASSWORD_CACHE_KEY: randomBytes(32).toString('base64'),
      PASSWORD_EXPIRATION_MINUTES: '30',
      ...options.targetEnv,
    },
    options.workDir,
  );
  const notifier = await startApp(
    'notifier',
    { ...common, DATA_DIR: dataDir('notifier'), SMTP_URL: options.smtpUrl, MAIL_FROM: 'IDM <noreply@idm.example>' },
    options.workDir,
  );
  await source.waitForLog(/full scan \(first-start\): \d+ entries read, baseline recorded/, baselineTimeoutMs);
  return {
    source,
    passwordSync,
    notifier,
    stop: async () => {
      for (const app of [source, passwordSync, notifier]) await app.stop();
    },
  };
}
