import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { HarnessError } from './harness-errors.js';
import { onProcessExit } from './process-cleanup.js';

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

  /** Sends `signal` without waiting for an exit (`SIGSTOP`, `SIGCONT`); nothing once it has exited. */
  notify(signal: NodeJS.Signals): void {
    if (this.exitInfo === undefined) this.child.kill(signal);
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
