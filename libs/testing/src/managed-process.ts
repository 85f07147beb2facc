import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { HarnessError } from './harness-errors.js';
import { onProcessExit } from './process-cleanup.js';
import { waitFor } from './wait-for.js';

/** How a child process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * One run of a server binary, with stdout and stderr appended to a log file. The child is unref'd
 * so a test that forgets to stop it does not hang; it is SIGKILLed when the test process exits.
 * Waiting for it (in {@link ManagedProcess.signal}) refs it again for the duration.
 */
export class ManagedProcess {
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;
  private readonly unregister: () => void;

  private constructor(
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.unregister();
        resolve(this.exitInfo);
      });
    });
    this.unregister = onProcessExit(() => {
      if (this.exitInfo === undefined) child.kill('SIGKILL');
    });
    child.unref();
  }

  /** Spawns `command` with `args`; output goes to `logFile` (appended). `as`: another user's uid/gid (needs root). */
  static start(
    command: string,
    args: readonly string[],
    logFile: string,
    as?: { readonly uid: number; readonly gid: number },
  ): Promise<ManagedProcess> {
    const fd = openSync(logFile, 'a');
    try {
      const child = spawn(command, args, { stdio: ['ignore', fd, fd], detached: false, ...(as ? { uid: as.uid, gid: as.gid } : {}) });
      return new Promise((resolve, reject) => {
        child.once('error', (err) =>
          reject(new HarnessError('IDM_HARNESS_START_FAILED', `could not spawn ${command}: ${err.message}`, { cause: err })),
        );
        child.once('spawn', () => resolve(new ManagedProcess(child, logFile)));
      });
    } finally {
      // The child has its own copy of the descriptor.
      closeSync(fd);
    }
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends `signal` (unless already exited) and resolves once the process has exited. */
  async signal(signal: NodeJS.Signals): Promise<ProcessExit> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.child.ref();
    try {
      this.child.kill(signal);
      return await this.exited;
    } finally {
      this.child.unref();
    }
  }

  /** Sends `signal` without waiting for an exit (`SIGCONT`); nothing once it has exited. To stop it, {@link pause}. */
  notify(signal: NodeJS.Signals): void {
    if (this.exitInfo === undefined) this.child.kill(signal);
  }

  /**
   * SIGSTOP, resolving once every thread of the process has stopped (or the process has exited).
   * `kill()` returns before that: the kernel gives a stop signal to one thread, which stops the
   * others only when it next runs, and until then they go on reading and answering. Measured here
   * under CPU load, nats-server (8 threads) had a thread still running right after `kill()` in
   * 155 of 200 tries, for up to 25 ms — long enough to answer a request sent "while paused".
   * Linux only: reads `/proc/<pid>/task/<tid>/stat`.
   * @throws HarnessError `IDM_HARNESS_TIMEOUT` if a thread still runs after `timeoutMs`.
   */
  async pause(timeoutMs = 5_000): Promise<void> {
    if (this.exitInfo !== undefined) return;
    this.child.kill('SIGSTOP');
    const pid = this.child.pid;
    await waitFor(() => this.exitInfo !== undefined || pid === undefined || allThreadsStopped(pid), {
      timeoutMs,
      intervalMs: 1,
      message: `every thread of process ${String(pid)} to stop after SIGSTOP`,
    });
  }

  /**
   * Resolves with `ready` or rejects as soon as the process exits first, quoting the log tail.
   */
  async untilReady<T>(ready: Promise<T>, what: string): Promise<T> {
    const died = this.exited.then((exit) => {
      throw new HarnessError(
        'IDM_HARNESS_START_FAILED',
        `${what} exited during start-up (code ${String(exit.code)}, signal ${String(exit.signal)}); log ${this.logFile}:\n${this.logTail()}`,
      );
    });
    died.catch(() => undefined); // observed by the race below; avoid an unhandled rejection once ready wins
    this.child.ref();
    try {
      return await Promise.race([ready, died]);
    } finally {
      this.child.unref();
    }
  }

  /** The last lines of the log file, for error messages. */
  logTail(lines = 20): string {
    if (!existsSync(this.logFile)) return '';
    return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }
}

/**
 * True when no thread of `pid` can run: each is stopped (`T`, `t` in `/proc/<pid>/task/<tid>/stat`)
 * or dead (`Z`, `X`, or gone). A process that is gone has no thread left to run.
 */
function allThreadsStopped(pid: number): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return true;
  }
  return tids.every((tid) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      return true; // the thread exited meanwhile
    }
    // `pid (comm) S ...`: the command may hold spaces and parentheses, the state follows the last `)`.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return 'TtZX'.includes(state);
  });
}
