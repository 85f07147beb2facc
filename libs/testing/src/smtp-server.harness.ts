import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { HarnessError } from './harness-errors.js';
import { onProcessExit } from './process-cleanup.js';
import type { ReceivedMail, SmtpMode, SmtpModeOptions, SmtpModeSetting } from './received-mail.js';
import type { SmtpChildMessage, SmtpRequest } from './smtp-ipc.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait-for.js';

/** Options of {@link startSmtpServer}. */
export interface SmtpServerOptions extends SmtpModeOptions {
  /** Initial mode (default `accept`). */
  readonly mode?: SmtpMode;
  /** How long to wait for the child to listen (default 10 000 ms). */
  readonly startTimeoutMs?: number;
}

/** A real SMTP server in a child process, controllable at runtime. */
export interface SmtpServerHandle {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** Loopback port; kept across {@link SmtpServerHandle.restart}. */
  readonly port: number;
  /** `smtp://127.0.0.1:<port>` — plain SMTP, no TLS, no auth. */
  readonly url: string;
  /** The child's stdout + stderr. */
  readonly logFile: string;
  /**
   * Switches behaviour for the next commands (a session already past a stage is unaffected):
   * - `accept`: every message is accepted (250) and recorded.
   * - `tempfail`: a 4xx at `opts.stage` — `connect` → 421 greeting, `mail` (default) / `rcpt` / `data` → 451.
   * - `reject`: 550 to `RCPT TO` for `opts.rejectRecipients` (all recipients when omitted); others accepted.
   * - `drop`: the TCP connection is destroyed at `opts.stage` (default `data`: after the message
   *   was transferred, before the reply) — the client sees a connection error, nothing is recorded.
   */
  setMode(mode: SmtpMode, opts?: SmtpModeOptions): Promise<void>;
  /** Every accepted message, oldest first, including those received before a restart. */
  messages(): Promise<ReceivedMail[]>;
  /** Forgets all recorded messages. */
  clear(): Promise<void>;
  /**
   * Polls until at least `n` messages are recorded and returns them.
   * @throws HarnessError `IDM_HARNESS_TIMEOUT` after `timeoutMs` (default 10 000).
   */
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Terminates the child (SIGTERM, then waits for exit); recorded messages are kept in the parent. No-op when stopped. */
  stop(): Promise<void>;
  /** Stops (if running) and starts a new child on the same port with the last mode. */
  restart(): Promise<void>;
  /** Stops and removes the temp dir. */
  dispose(): Promise<void>;
}

const childScript = fileURLToPath(new URL('./smtp-server.child.js', import.meta.url));

interface Pending {
  readonly resolve: (message: SmtpChildMessage & { type: 'reply' }) => void;
  readonly reject: (err: Error) => void;
}

/** One run of the SMTP child, with request/reply over IPC. Unref'd while idle so a forgotten server cannot hang a test. */
class SmtpChild {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;
  readonly exit: Promise<void>;
  private readonly unregister: () => void;

  private constructor(private readonly child: ChildProcess) {
    this.exit = new Promise((resolve) => {
      child.once('exit', () => {
        this.exited = true;
        this.unregister();
        for (const p of this.pending.values()) p.reject(new HarnessError('IDM_HARNESS_START_FAILED', 'the SMTP test server exited'));
        this.pending.clear();
        resolve();
      });
    });
    this.unregister = onProcessExit(() => {
      if (!this.exited) child.kill('SIGKILL');
    });
    child.on('message', (message: SmtpChildMessage) => {
      if (message.type !== 'reply') return;
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      this.settleRefs();
      p.resolve(message);
    });
  }

  static async start(port: number, setting: SmtpModeSetting, logFile: string, timeoutMs: number): Promise<SmtpChild> {
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = fork(childScript, [String(port), JSON.stringify(setting)], { stdio: ['ignore', fd, fd, 'ipc'], execArgv: [] });
    } finally {
      closeSync(fd);
    }
    const run = new SmtpChild(child);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new HarnessError('IDM_HARNESS_TIMEOUT', `SMTP test server did not listen within ${timeoutMs} ms; log ${logFile}`)),
        timeoutMs,
      );
      child.on('message', (message: SmtpChildMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
      void run.exit.then(() => {
        clearTimeout(timer);
        reject(new HarnessError('IDM_HARNESS_START_FAILED', `SMTP test server exited during start-up; log ${logFile}`));
      });
    });
    try {
      await ready;
    } catch (err) {
      await run.terminate('SIGKILL');
      throw err;
    }
    run.settleRefs();
    return run;
  }

  request(op: 'setMode', setting: SmtpModeSetting): Promise<SmtpChildMessage & { type: 'reply' }>;
  request(op: 'messages' | 'clear'): Promise<SmtpChildMessage & { type: 'reply' }>;
  request(op: SmtpRequest['op'], setting?: SmtpModeSetting): Promise<SmtpChildMessage & { type: 'reply' }> {
    if (this.exited) return Promise.reject(new HarnessError('IDM_HARNESS_START_FAILED', 'the SMTP test server is stopped'));
    const id = this.nextId++;
    const request: SmtpRequest = op === 'setMode' ? { id, op, setting: setting! } : { id, op };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.settleRefs();
      this.child.send(request, (err) => {
        if (err && this.pending.delete(id)) {
          this.settleRefs();
          reject(err);
        }
      });
    });
  }

  async terminate(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exited) return;
    this.child.ref();
    this.child.kill(signal);
    await this.exit;
  }

  /** Keep the test process alive only while a reply is awaited. */
  private settleRefs(): void {
    if (this.exited) return;
    if (this.pending.size > 0) {
      this.child.ref();
      this.child.channel?.ref();
    } else {
      this.child.unref();
      this.child.channel?.unref();
    }
  }
}

/**
 * Starts a real SMTP server (the `smtp-server` package) in a child process on a free loopback
 * port: no TLS (STARTTLS disabled), no auth required, any sender. Behaviour is switched at
 * runtime with {@link SmtpServerHandle.setMode}; accepted messages are recorded in the child and
 * fetched over IPC.
 *
 * The child exits when the test process does (IPC disconnect, or SIGKILL from the exit hook).
 * @throws HarnessError `IDM_HARNESS_START_FAILED` / `IDM_HARNESS_TIMEOUT` when it does not listen.
 */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpServerHandle> {
  const dir = tempDir('idm-smtp');
  const logFile = join(dir, 'smtp-server.log');
  const unregisterDir = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  let setting: SmtpModeSetting = toSetting(options.mode ?? 'accept', options);
  let archived: ReceivedMail[] = [];
  let current: SmtpChild | undefined;
  try {
    current = await SmtpChild.start(port, setting, logFile, timeoutMs);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    unregisterDir();
    throw err;
  }

  const messages = async (): Promise<ReceivedMail[]> => {
    if (!current) return [...archived];
    const reply = await current.request('messages');
    return [...archived, ...(reply.messages ?? [])];
  };
  const stop = async (): Promise<void> => {
    if (!current) return;
    const run = current;
    current = undefined;
    // Keep what this run received, so a restart looks like a server with a persistent mailbox.
    archived = [...archived, ...((await run.request('messages').catch(() => undefined))?.messages ?? [])];
    await run.terminate();
  };

  return {
    host: '127.0.0.1',
    port,
    url: `smtp://127.0.0.1:${port}`,
    logFile,
    async setMode(mode, opts = {}) {
      setting = toSetting(mode, opts);
      if (current) await current.request('setMode', setting);
    },
    messages,
    async clear() {
      archived = [];
      if (current) await current.request('clear');
    },
    async waitForMessages(n, waitMs = 10_000) {
      return waitFor(
        async () => {
          const all = await messages();
          return all.length >= n ? all : undefined;
        },
        { timeoutMs: waitMs, message: `${n} message(s) at the SMTP test server` },
      );
    },
    stop,
    async restart() {
      await stop();
      current = await SmtpChild.start(port, setting, logFile, timeoutMs);
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      unregisterDir();
    },
  };
}

function toSetting(mode: SmtpMode, opts: SmtpModeOptions): SmtpModeSetting {
  return {
    mode,
    ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
    ...(opts.rejectRecipients !== undefined ? { rejectRecipients: [...opts.rejectRecipients] } : {}),
  };
}
