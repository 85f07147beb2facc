import { Worker } from 'node:worker_threads';
import { redactSecrets } from '@idm/config';
import { MailTransport, type OutgoingEmail, type SendResult } from './mail-transport.js';
import type { SmtpFailure } from './smtp-failure.js';
import type { SmtpSettings } from './smtp-settings.js';
import {
  connectionShares,
  type FromSmtpWorker,
  type SendReply,
  type SendRequest,
  type SmtpWorkerData,
  type ToSmtpWorker,
} from './smtp-worker-protocol.js';

/** Resolved beside `worker-mail-transport.js`, in `dist` and in the image alike. */
const WORKER_SCRIPT = new URL('./smtp-worker.js', import.meta.url);

function transient(message: string): SendResult {
  const failure: SmtpFailure = { permanent: false, kind: 'other', message };
  return { ok: false, failure };
}

/** One worker thread and the sends it has not answered yet. */
class SmtpThread {
  readonly pending = new Map<number, (result: SendResult) => void>();
  private worker: Worker;
  private queued: SendRequest[] = [];
  private closing = false;
  /** Why a replacement thread could not start; the thread then answers every send at once. */
  private broken: string | undefined;
  private readonly exited: Promise<void>[] = [];
  private readonly started: Promise<void>;

  constructor(
    private readonly script: URL,
    private readonly data: SmtpWorkerData,
    private readonly secrets: readonly string[],
  ) {
    let ready!: () => void;
    let failed!: (error: Error) => void;
    this.started = new Promise((resolve, reject) => ((ready = resolve), (failed = reject)));
    this.worker = this.spawn(ready, failed);
  }

  /** Resolves once the thread's script loaded and its pool exists; rejects when it cannot start (file missing, load error). */
  ready(): Promise<void> {
    return this.started;
  }

  /** False once a replacement thread failed to start (it is not tried again). */
  get usable(): boolean {
    return this.broken === undefined;
  }

  send(id: number, email: OutgoingEmail): Promise<SendResult> {
    if (this.broken !== undefined) return Promise.resolve(transient(this.broken));
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.ref();
      // The sends of one event-loop turn leave in one message.
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ id, email });
    });
  }

  /** Lets the sends in flight finish, closes the thread's pool and waits until the thread exited. */
  async close(): Promise<void> {
    this.flush();
    this.closing = true;
    this.worker.ref();
    this.worker.postMessage({ kind: 'close' } satisfies ToSmtpWorker);
    await Promise.all(this.exited);
  }

  private flush(): void {
    if (this.queued.length === 0) return;
    const requests = this.queued;
    this.queued = [];
    this.worker.postMessage({ kind: 'send', requests } satisfies ToSmtpWorker);
  }

  private spawn(onReady: () => void = () => undefined, onFailed: (error: Error) => void = () => undefined): Worker {
    const worker = new Worker(this.script, { workerData: this.data });
    let ready = false;
    let crash: unknown;
    worker.on('message', (message: FromSmtpWorker) => {
      if (message.kind === 'replies') return this.settle(message.replies);
      ready = true;
      // Kept referenced while starting, sending and closing; an idle thread lets the process exit.
      if (this.pending.size === 0 && !this.closing) worker.unref();
      onReady();
    });
    worker.on('error', (error) => (crash = error));
    this.exited.push(
      new Promise((resolve) =>
        worker.once('exit', (code) => {
          const reason = this.redact(crash ?? `exit code ${code}`);
          if (!ready) onFailed(new Error(`the SMTP worker thread did not start: ${reason}`));
          this.onExit(ready, reason);
          resolve();
        }),
      ),
    );
    return worker;
  }

  private settle(replies: readonly SendReply[]): void {
    for (const { id, result } of replies) {
      this.pending.get(id)?.(result);
      this.pending.delete(id);
    }
    if (this.pending.size === 0 && !this.closing) this.worker.unref();
  }

  /**
   * A thread that stopped unasked leaves its sends unanswered: they count as transient failures
   * (the server may have accepted some; a resend carries the same Message-ID). A thread that had
   * started is replaced; one that never started is not (it would fail the same way again).
   */
  private onExit(wasReady: boolean, reason: string): void {
    const unanswered = [...this.pending.values()];
    this.pending.clear();
    // Not yet handed over either: answered below, so never sent by the replacement thread.
    this.queued = [];
    const why = this.closing ? 'the mail transport closed' : `the SMTP worker thread stopped (${reason})`;
    for (const resolve of unanswered) resolve(transient(`${why} before the server answered; the email may or may not have been accepted`));
    if (this.closing) return;
    if (wasReady) this.worker = this.spawn();
    else {
      this.closing = true;
      this.broken = `the SMTP worker thread could not be restarted (${reason})`;
    }
  }

  private redact(error: unknown): string {
    return redactSecrets(error instanceof Error ? error.message : String(error), this.secrets);
  }
}

/**
 * {@link MailTransport} that sends from `workers` worker threads, each with its own nodemailer
 * pool (`NodemailerMailTransport` with a share of `maxConnections`), so composing MIME and
 * the SMTP socket traffic leave the main thread. Results come back with the same classification
 * the in-thread transport gives (it runs inside each thread).
 *
 * - Each email goes to the thread with the fewest unanswered sends; sends and replies of one
 *   event-loop turn travel in one message each way.
 * - A thread that dies unasked: its unanswered sends resolve as transient failures (at-least-once:
 *   the server may have accepted them; the resend has the same Message-ID) and it is restarted.
 * - `close` waits for the sends in flight to settle, closes every pool and waits for every thread
 *   to exit. Sends after `close` resolve as transient failures.
 * - Threads never log (nodemailer's logger is off: it could print the AUTH exchange). Failure
 *   messages are redacted as in-thread, and so is the reason a thread stopped.
 */
export class WorkerMailTransport extends MailTransport {
  private readonly threads: SmtpThread[];
  private nextId = 0;
  private closed = false;

  private constructor(settings: SmtpSettings, workers: number, script: URL) {
    super();
    const secrets = settings.auth ? [settings.auth.pass, settings.auth.user] : [];
    this.threads = connectionShares(settings.maxConnections, workers).map(
      (maxConnections) => new SmtpThread(script, { settings: { ...settings, maxConnections } }, secrets),
    );
  }

  /**
   * Starts the threads (at most one per connection) and resolves once each has its pool.
   * `script` is the thread's entry point; specs pass a stand-in.
   * @throws Error when a thread cannot start (e.g. its file is missing from the build); the threads already started are closed.
   */
  static async start(settings: SmtpSettings, workers: number, script: URL = WORKER_SCRIPT): Promise<WorkerMailTransport> {
    const transport = new WorkerMailTransport(settings, workers, script);
    try {
      await Promise.all(transport.threads.map((t) => t.ready()));
    } catch (error) {
      await transport.close();
      throw error;
    }
    return transport;
  }

  /** How many threads send (fewer than asked when there are fewer connections). */
  get threadCount(): number {
    return this.threads.length;
  }

  override send(email: OutgoingEmail): Promise<SendResult> {
    if (this.closed) return Promise.resolve(transient('the mail transport is closed'));
    let least = this.threads[0]!;
    for (const thread of this.threads) if (thread.usable && (!least.usable || thread.pending.size < least.pending.size)) least = thread;
    return least.send(this.nextId++, email);
  }

  override async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
