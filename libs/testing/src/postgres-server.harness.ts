import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { HarnessError } from './harness-errors.js';
import { ManagedProcess } from './managed-process.js';
import { onProcessExit } from './process-cleanup.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait-for.js';

/** A private PostgreSQL cluster in a temp dir, on its own port: a test may stop, kill and restart it. */
export interface PostgresServerHandle {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** Server version, e.g. `15`. */
  readonly version: string;
  /** The server's log, appended across restarts. */
  readonly logFile: string;
  /** Fast shutdown (SIGINT: sessions are ended, the checkpoint is written) and wait for the exit. */
  stop(): Promise<void>;
  /** Stops it (fast) if running, then starts it again on the same port and data; resolves when it accepts connections. */
  restart(): Promise<void>;
  /** Stops it and removes the cluster. */
  dispose(): Promise<void>;
}

/** The newest Debian PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`). */
function postgresBinaries(): { bin: string; version: string } {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const version = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!version)
    throw new HarnessError(
      'IDM_HARNESS_MISSING_BINARY',
      'PostgreSQL server binaries not found under /usr/lib/postgresql: install them with `apt-get install postgresql`',
    );
  return { bin: join(root, version, 'bin'), version };
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch (err) {
    throw new HarnessError('IDM_HARNESS_START_FAILED', 'running as root, and there is no `postgres` user to run PostgreSQL as', {
      cause: err,
    });
  }
}

/**
 * Starts a private PostgreSQL cluster — never the machine's own, which other tests share — with
 * Debian's binaries: `initdb` into a temp dir (trust authentication, user `postgres`), then
 * `postgres` on a free loopback port with its socket in that dir. As root it runs as the
 * `postgres` user. Resolves once `pg_isready` answers. Only fast shutdowns are offered: after a
 * SIGKILL of the postmaster its backends (children of another user) would have to be hunted down. The process is SIGKILLed and the dir
 * removed if the test process exits without `dispose()`.
 * @throws HarnessError `IDM_HARNESS_MISSING_BINARY` (install `postgresql`), `IDM_HARNESS_START_FAILED` quoting the log.
 */
export async function startPostgresServer(): Promise<PostgresServerHandle> {
  const { bin, version } = postgresBinaries();
  const as = runAs();
  const dir = tempDir('idm-postgres');
  const unregisterDir = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  if (as) chownSync(dir, as.uid, as.gid);
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], {
    encoding: 'utf8',
    ...(as ?? {}),
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    unregisterDir();
    throw new HarnessError('IDM_HARNESS_START_FAILED', `initdb failed: ${init.stderr || init.error?.message}`);
  }
  const port = await freePort();
  let current: ManagedProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = await ManagedProcess.start(
      join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'],
      logFile,
      as,
    );
    current = proc;
    const ready = waitFor(() => spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']).status === 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: 'postgres accepting connections',
    });
    await proc.untilReady(ready, 'postgres');
  };
  try {
    await launch();
  } catch (err) {
    await current?.signal('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    unregisterDir();
    throw err;
  }
  const stop = async (): Promise<void> => {
    await current?.signal('SIGINT');
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    version,
    logFile,
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      unregisterDir();
    },
  };
}
