import { errorMessage } from '@idm/config';
import type { PollLogger, PollReport, PollService } from './poll.service.js';

/** How the poller is doing, for readiness and metrics. */
export interface PollHealth {
  readonly consecutiveFailures: number;
  /** The last failure's one-line reason, or null after a success. */
  readonly lastError: string | null;
  readonly lastSuccessAt: Date | null;
}

function reason(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${err.message}`;
  }
  return errorMessage(err);
}

/**
 * Runs a poll every interval, never two at once (the next starts an interval after the previous
 * ended). A failed poll is logged in one line and retried at the next interval; after
 * `unreadyAfter` consecutive failures readiness turns false until a poll succeeds.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  /** Polls run one after the other: each starts when the previous one settled. */
  private chain: Promise<void> = Promise.resolve();
  private stopped = true;
  private health: PollHealth = { consecutiveFailures: 0, lastError: null, lastSuccessAt: null };

  constructor(
    private readonly service: PollService,
    private readonly settings: { readonly intervalMs: number; readonly unreadyAfter: number },
    private readonly logger: PollLogger,
  ) {}

  /** Starts polling now. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the timer and waits for a poll in flight (its events are published and committed, or not at all). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  get state(): PollHealth {
    return this.health;
  }

  /** True unless the last `unreadyAfter` polls all failed. */
  get ready(): boolean {
    return this.health.consecutiveFailures < this.settings.unreadyAfter;
  }

  /** Runs one poll now (between timer polls); resolves with its report, or rejects with its error. */
  runOnce(force?: 'full'): Promise<PollReport> {
    let started = 0;
    const run = this.chain.then(() => {
      started = performance.now();
      return this.service.poll(force);
    });
    this.chain = run.then(
      (report) => this.succeeded(report, (performance.now() - started) / 1000),
      (error: unknown) => this.failed(error),
    );
    return run;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runOnce()
        .catch(() => undefined)
        .finally(() => this.schedule(this.settings.intervalMs));
    }, delayMs);
  }

  private succeeded(report: PollReport, seconds: number): void {
    if (this.health.consecutiveFailures > 0)
      this.logger.log(`directory reachable again after ${this.health.consecutiveFailures} failed poll(s)`);
    this.health = { consecutiveFailures: 0, lastError: null, lastSuccessAt: new Date() };
    const events = report.events.length;
    const what = report.kind === 'full' ? `full scan (${report.reason ?? 'forced'})` : 'change query';
    const line = `${what}: ${report.entriesRead} entries read, ${report.baseline ? 'baseline recorded, nothing announced' : `${events} event(s)`}, ${report.requests} LDAP request(s) in ${seconds.toFixed(2)} s (read ${report.phases.read.toFixed(2)}, publish ${report.phases.publish.toFixed(2)}, commit ${report.phases.commit.toFixed(2)})`;
    if (events > 0 || report.kind === 'full') this.logger.log(line);
  }

  private failed(error: unknown): void {
    const n = this.health.consecutiveFailures + 1;
    this.health = { ...this.health, consecutiveFailures: n, lastError: reason(error) };
    const unready = n === this.settings.unreadyAfter ? '; readiness is now false' : '';
    this.logger.warn(
      `poll failed (${n} in a row), retried in ${Math.round(this.settings.intervalMs / 1000)} s${unready}: ${reason(error)}`,
    );
  }
}
