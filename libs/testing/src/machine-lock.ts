import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from './harness-errors.js';
import { onProcessExit } from './process-cleanup.js';

/** Who holds a {@link MachineLock}: written into `<lock dir>/owner.json` before the lock exists. */
export interface MachineLockOwner {
  readonly pid: number;
  /** Linux start time of `pid` (field 22 of `/proc/<pid>/stat`), so a recycled pid is not mistaken for the owner. */
  readonly startTime: string | undefined;
  readonly hostname: string;
  readonly acquiredAt: string;
  /** Free text, e.g. the test file; shown to whoever waits. */
  readonly purpose: string;
  /** A server the owner started under the lock; killed on stale takeover if it outlived its owner. */
  readonly childPid?: number;
  /** Substring the child's `/proc/<pid>/cmdline` must contain before a takeover kills it. */
  readonly childCommand?: string;
}

/** A held machine-wide lock; see {@link acquireMachineLock}. */
export interface MachineLock {
  /** The lock directory (`<os tmpdir>/idm-<name>.lock`). */
  readonly path: string;
  /** Records a child server in the owner file so that a takeover after a crash can kill it. */
  recordChild(pid: number, command: string): void;
  /** Removes the lock if this process still holds it. Idempotent. */
  release(): void;
}

/** Options of {@link acquireMachineLock}. */
export interface MachineLockOptions {
  /** Shown to other waiters (default: this process's argv). */
  readonly purpose?: string;
  /** Give up after this long (default 15 minutes: other test files may hold a DC for minutes). */
  readonly timeoutMs?: number;
  /** Where waiting is reported once (default: a line on stderr). */
  readonly log?: (line: string) => void;
}

function processStartTime(pid: number): string | undefined {
  try {
    // comm (field 2) may contain spaces and parentheses: split after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: exists but belongs to someone else — alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

function readOwner(path: string): MachineLockOwner | undefined {
  try {
    return JSON.parse(readFileSync(join(path, 'owner.json'), 'utf8')) as MachineLockOwner;
  } catch {
    return undefined;
  }
}

/** Kills a server left behind by a dead owner, but only if the pid still runs that command. */
function killOrphan(owner: MachineLockOwner): void {
  if (owner.childPid === undefined || owner.childCommand === undefined) return;
  try {
    const cmdline = readFileSync(`/proc/${owner.childPid}/cmdline`, 'utf8');
    if (cmdline.includes(owner.childCommand)) process.kill(owner.childPid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Takes a lock shared by every process on this machine (all worktrees, all test runners), for
 * resources that cannot be multiplied — a server on fixed ports such as Samba AD's 389/636.
 *
 * The lock is the directory `<os tmpdir>/idm-<name>.lock`. It is created atomically with its
 * owner file already inside (a fully written temp dir renamed into place), so a lock without an
 * owner never exists. A lock whose owner process is gone (pid dead, or recycled: start time
 * differs) is stale: the taker renames it away (atomic, only one taker wins), kills the server
 * the dead owner recorded with {@link MachineLock.recordChild} if it is still running, and
 * retries. While another live process holds it, this waits, polling, and says once on stderr who
 * holds it. The lock is released on `release()` and, as a last resort, when this process exits.
 * @throws HarnessError `IDM_HARNESS_TIMEOUT` after `timeoutMs`.
 */
export async function acquireMachineLock(name: string, options: MachineLockOptions = {}): Promise<MachineLock> {
  const path = join(tmpdir(), `idm-${name}.lock`);
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base: MachineLockOwner = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    hostname: hostname(),
    acquiredAt: '',
    purpose: options.purpose ?? process.argv.slice(1).join(' '),
  };
  const deadline = Date.now() + timeoutMs;
  let reported = false;
  for (;;) {
    const staging = `${path}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
    mkdirSync(staging);
    writeFileSync(join(staging, 'owner.json'), JSON.stringify({ ...base, acquiredAt: new Date().toISOString() }));
    try {
      // rename(2) of a directory onto an existing non-empty directory fails: exactly one winner.
      renameSync(staging, path);
      return held(path, base);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    if (owner !== undefined && owner.hostname === base.hostname && !isAlive(owner.pid, owner.startTime)) {
      const graveyard = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        renameSync(path, graveyard);
        log(`[idm-testing] took over stale lock ${path} of dead pid ${owner.pid} (${owner.purpose})`);
        killOrphan(owner);
        rmSync(graveyard, { recursive: true, force: true });
      } catch {
        // Another waiter took it over first; go round again.
      }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new HarnessError(
        'IDM_HARNESS_TIMEOUT',
        `timed out after ${timeoutMs} ms waiting for the machine-wide lock ${path}, held by ${describe(owner)}`,
      );
    }
    if (!reported) {
      log(`[idm-testing] waiting for the machine-wide lock ${path}, held by ${describe(owner)}`);
      reported = true;
    }
    await sleep(250);
  }
}

function describe(owner: MachineLockOwner | undefined): string {
  return owner === undefined ? 'an unknown owner (owner file unreadable)' : `pid ${owner.pid} since ${owner.acquiredAt} (${owner.purpose})`;
}

function held(path: string, base: MachineLockOwner): MachineLock {
  let released = false;
  const ownedByUs = (): boolean => readOwner(path)?.pid === base.pid;
  const release = (): void => {
    if (released) return;
    released = true;
    unregister();
    if (ownedByUs()) rmSync(path, { recursive: true, force: true });
  };
  const unregister = onProcessExit(release);
  return {
    path,
    recordChild(pid, command) {
      const owner = readOwner(path);
      if (owner === undefined || owner.pid !== base.pid) return;
      // Write-then-rename so a reader never sees half a file.
      const tmp = join(path, `owner.json.${randomBytes(4).toString('hex')}`);
      writeFileSync(tmp, JSON.stringify({ ...owner, childPid: pid, childCommand: command }));
      renameSync(tmp, join(path, 'owner.json'));
    },
    release,
  };
}
