import type { DataSource } from 'typeorm';
import { deleteOutboxRows, readOutboxRows, type OutboxEvent, type OutboxRow } from './outbox-rows.js';

/** Appends one event to the stream and resolves once the stream acknowledged it (e.g. `EventPublisher`). */
export interface OutboxPublisher<E extends OutboxEvent> {
  publish(event: E): Promise<unknown>;
}

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  /** Rows read (and published, pipelined) per round. Default 1000. */
  readonly batchSize?: number;
  /** Drain this often even without a wake-up (other replicas' rows, failed rounds). Default 1000 ms. */
  readonly intervalMs?: number;
  /** Told when a round failed (publish or database); the rows stay and are retried. Must not throw. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Publishes outbox rows and removes them once the stream acknowledged them.
 *
 * - Pipelined: the rows of a round are published with many appends in flight; rows of one key
 *   (the event's CloudEvents subject, e.g. the user) go one after the other, in position order.
 * - Each event is sent with its deterministic id as `Nats-Msg-Id` (the publisher's job), so a row
 *   published again — after a crash between the ack and the delete, or by a second replica's relay
 *   — is dropped by the stream's duplicate window.
 * - `start()` drains what a crash left behind before returning; then the relay drains on
 *   `wake()` (call it after a commit, see `Outbox.onCommitted`) and every `intervalMs`.
 * - A failed publish keeps its row and the later rows of its key; they are retried next round.
 * - `stop()` waits for the running round; rows not yet published stay for the next start.
 */
export class OutboxRelay<E extends OutboxEvent = OutboxEvent> {
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: OutboxPublisher<E>,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1_000;
    this.intervalMs = options.intervalMs ?? 1_000;
  }

  /**
   * Publishes every row present now (a crash's leftovers), then keeps draining. A failure of that
   * first drain goes to `onError` (the timer retries), so a stream that is briefly away does not
   * stop the app from starting.
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.running = this.track(this.drainOnce().then(() => undefined));
    await this.running;
    this.timer = setInterval(() => this.wake(), this.intervalMs);
    this.timer.unref();
  }

  /** Asks for a drain soon; cheap to call after every commit. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.track(this.loop());
  }

  /** Clears `running` when `round` settles, and starts another if a wake-up came meanwhile. */
  private track(round: Promise<void>): Promise<void> {
    return round
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) this.wake();
      });
  }

  /** Stops the timer and waits for the round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * Publishes rows until the outbox is empty (or a round publishes nothing); returns how many were
   * published. For start-up and tests; the running relay calls it on its own.
   */
  async drainOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await readOutboxRows(this.dataSource, this.batchSize);
      if (rows.length === 0) return total;
      const published = await this.publishRound(rows);
      if (published.failure !== undefined) throw published.failure;
      total += published.count;
      if (rows.length < this.batchSize) return total;
    }
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.drainOnce();
      } catch (error) {
        this.options.onError?.(error);
        this.again = false; // the timer tries again; retrying at once would spin while the stream is away
        return;
      }
    } while (this.again && !this.stopped);
  }

  /** Publishes `rows` (per key in order, keys in parallel), deletes those acknowledged. */
  private async publishRound(rows: readonly OutboxRow[]): Promise<{ count: number; failure: unknown }> {
    const byKey = new Map<string, OutboxRow[]>();
    for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
    const acked: number[] = [];
    let failure: unknown;
    await Promise.all(
      [...byKey.values()].map(async (chain) => {
        for (const row of chain) {
          try {
            await this.publisher.publish(JSON.parse(row.payload) as E);
          } catch (error) {
            failure ??= error;
            return; // later rows of this key wait, or they would overtake this one
          }
          acked.push(row.position);
        }
      }),
    );
    if (acked.length > 0) await deleteOutboxRows(this.dataSource, acked);
    return { count: acked.length, failure };
  }
}
