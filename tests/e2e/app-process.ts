import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@idm/testing';

/** The repository root, from `dist/tests/e2e/`. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** An app started as its own process (`node dist/apps/<app>/main.js`), as it runs in production. */
export interface AppProcess {
  readonly name: string;
  readonly logFile: string;
  /** Everything the process wrote so far (stdout and stderr). */
  log(): string;
  /** Resolves once the log matches `pattern`; rejects (with the log) if the process exits first. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Why an app process could not be used; carries the tail of its log. */
export class AppProcessError extends Error {
  override readonly name = 'AppProcessError';
  readonly code = 'IDM_E2E_APP_PROCESS';
}

/**
 * Starts `dist/apps/<app>/main.js` with exactly `env` (plus PATH/HOME), logging into `logDir`.
 * The app must have been built (`npm run build`).
 */
export function startApp(app: 'scheduler' | 'notifier', name: string, env: Record<string, string>, logDir: string): AppProcess {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist/apps', app, 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const log = () => readFileSync(logFile, 'utf8');
  return {
    name,
    logFile,
    log,
    async waitForLog(pattern, timeoutMs = 30_000) {
      await waitFor(
        () => {
          if (pattern.test(log())) return true;
          if (exited) throw new AppProcessError(`${name} exited before logging ${pattern}:\n${log().slice(-2000)}`);
          return false;
        },
        { message: `${name} to log ${pattern}`, timeoutMs },
      );
    },
    async stop(graceMs = 15_000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
