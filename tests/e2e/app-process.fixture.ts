import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild, StopWaiting, waitFor } from '@idm/testing';

/** The apps an end-to-end test can start; each is `dist/apps/<app>/main.js`. */
export type AppName = 'password-sync' | 'notifier' | 'scheduler' | 'directory-source' | 'console';

/** A built app running as its own process, as in production. */
export interface AppProcess {
  readonly app: AppName;
  /** Instance label (`notifier-2`): names the log file, so replicas keep separate logs. */
  readonly name: string;
  /** stdout + stderr of every run of this app, appended. */
  readonly logFile: string;
  /** Everything the app has written so far. */
  log(): string;
  /** Resolves once the log matches `pattern`; rejects with the log if the process exits first. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM (graceful shutdown) and wait for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  /** How the last run ended (a graceful stop ends with the re-raised `SIGTERM`, a hung one with `SIGKILL`); undefined while it runs. */
  exitStatus(): { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined;
  /** SIGKILL (a crash: nothing is flushed or drained) and wait for the exit. */
  kill(): Promise<void>;
  /** Starts the app again with the same environment; resolves when it is ready. */
  restart(): Promise<void>;
  /** SIGKILL — a crash with no shutdown hooks — and wait for the exit (fault tests). */
  kill(): Promise<void>;
}

// dist/tests/e2e/<this>.js → dist/apps/<app>/main.js
const mainOf = (app: AppName): string => fileURLToPath(new URL(`../../apps/${app}/main.js`, import.meta.url));

/** How {@link startApp} knows the app is up. */
export interface StartOptions {
  /** Instance label and log file name; default the app name. */
  readonly name?: string;
  /** The log line that means "ready"; default `ready:` (the scheduler logs its schedules instead). */
  readonly ready?: RegExp;
}

/**
 * Starts `node dist/apps/<app>/main.js` with exactly `env` (plus PATH; nothing else leaks in from
 * the test's environment, so a developer's DATABASE_URL cannot redirect it), writes its output to
 * `<logDir>/<name>.log`, and resolves once it logs its ready line. A process that exits first
 * fails the start with its log.
 */
export async function startApp(
  app: AppName,
  env: Readonly<Record<string, string>>,
  logDir: string,
  options: StartOptions = {},
): Promise<AppProcess> {
  const name = options.name ?? app;
  const ready = options.ready ?? /ready:/;
  const logFile = join(logDir, `${name}.log`);
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const log = (): string => readFileSync(logFile, 'utf8');

  const launch = async (): Promise<void> => {
    const fd = openSync(logFile, 'a');
    const proc = spawn(process.execPath, [mainOf(app)], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child = proc;
    let gone = false;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    void exited.then(() => (gone = true));
    const before = log().length;
    await waitFor(
      () => {
        if (gone) throw new StopWaiting(`${name} exited during start-up:\n${log().slice(before)}`);
        return ready.test(log().slice(before));
      },
      { timeoutMs: 30_000, message: `${name} ready` },
    ).catch((err: unknown) => {
      proc.kill('SIGKILL');
      throw err;
    });
  };

  const stop = async (timeoutMs = 15_000): Promise<void> => {
    if (child) await stopChild(child, timeoutMs);
  };

  // A test process that dies must not leave the app running.
  process.once('exit', () => child?.kill('SIGKILL'));
  await launch();
  return {
    app,
    name,
    logFile,
    log,
    async waitForLog(pattern, timeoutMs = 30_000) {
      await waitFor(
        () => {
          if (pattern.test(log())) return true;
          if (child?.exitCode !== null || child?.signalCode !== null)
            throw new StopWaiting(`${name} exited before logging ${pattern}:\n${log().slice(-2000)}`);
          return false;
        },
        { message: `${name} to log ${pattern}`, timeoutMs },
      );
    },
    stop,
    exitStatus: () =>
      child && (child.exitCode !== null || child.signalCode !== null) ? { code: child.exitCode, signal: child.signalCode } : undefined,
    async kill() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await stop();
      await launch();
    },
  };
}
