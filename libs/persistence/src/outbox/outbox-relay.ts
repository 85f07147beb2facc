import type { DataSource, EntityManager } from 'typeorm';
import { backoffDelay, type BackoffPolicy } from '@idm/config';
import type { TransactionRider } from './outbox.js';
import type { OutboxRelayReport } from './outbox-relay-report.js';
import { deleteOutboxRows, readOutboxRows, type OutboxEvent, type OutboxRow } from './outbox-rows.js';

/** An event as the outbox stored it: its id, type and key, and its JSON (what {@link OutboxPublisher.publishStored} sends as is). */
export interface StoredOutboxEvent {
  readonly id: string;
  readonly type: string;
  /** The CloudEvents subject (the key). */
  readonly subject: string;
  readonly payload: string;
}

/** Appends one event to the stream and resolves once the stream acknowledged it (e.g. `EventPublisher`). */
export interface OutboxPublisher<E extends OutboxEvent> {
  publish(event: E): Promise<unknown>;
  /**
   * Appends the stored JSON as it is, when the publisher can: the relay then neither parses a row
   * nor serialises the event again (the payload is what `publish` would have sent).
   */
  publishStored?(event: StoredOutboxEvent): Promise<unknown>;
}

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  /** Rows read (and published, pipelined) per round. Default 1000. */
  readonly batchSize?: number;
  /** Drain this often even without a wake-up (other replicas' rows). Default 1000 ms. */
  readonly intervalMs?: number;
  /**
   * The rest after a failed round (publish or database) before the next one; wake-ups during it
   * only note that a round is wanted. `failedRounds` in a row drive it; a successful round resets
   * it. Default {@link RELAY_BACKOFF}: 200 ms, doubling, capped at 5 s, ±20 %.
   */
  readonly backoff?: BackoffPolicy;
  /**
   * Told about failed rounds at a bounded rate (see {@link OutboxRelayReport}): the first of a
   * run, then at most once per `reportEveryMs` while rounds keep failing, and once when a round
   * succeeds again. The rows of a failed round stay and are retried. Must not throw (a throw is
   * ignored). `logOutboxRelayReports(logger)` is the apps' one way to log them.
   */
  readonly onReport?: (report: OutboxRelayReport) => void;
  /** Least time between two `failing` reports of one run of failed rounds. Default 60 s. */
  readonly reportEveryMs?: number;
  /** Time of the reports (`since`, `reportEveryMs`). Default: the system clock. */
  readonly now?: () => Date;
}

/**
 * The relay's default rest after a failed round: short enough that a stream back from a blip is
 * used within a fraction of a second, capped so a refusal that lasts (a publish permission the
 * service lacks) costs one read of the outbox and one refused publish every few seconds, not one
 * per commit. The publisher has already retried transient failures by then (`EventPublisher`: 30 s).
 */
export const RELAY_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 5_000, factor: 2, jitter: 0.2 };

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
 * - After a failed round the relay rests (`backoff`: exponential with jitter) before the next one;
 *   wake-ups meanwhile only note that a round is wanted, so a refusing stream under steady commits
 *   is not asked again after every commit. A successful round ends the backoff. Failures are
 *   reported to `onReport` at a bounded rate, with the count of failed rounds in a row.
 * - `stop()` waits for the running round, not for a rest; rows not yet published stay for the next
 *   start. `drainOnce()` tries at once, rest or not (once a round already running has ended: one
 *   round at a time), and counts as a round: its success ends a run of failed rounds (and a
 *   rest), its failure is one more failed round.
 * - Deletes ride along (`outbox.carry(relay)`): the rows the stream acknowledged are deleted inside
 *   the outbox's next transaction instead of a commit of their own — on SQLite one fsync less per
 *   round. Until then the relay skips them; when no transaction comes (a quiet spell, `stop()`,
 *   `drainOnce()`, too many waiting) it deletes them itself. A crash before the delete commits
 *   publishes them again at restart, which the stream's duplicate window drops.
 */
export class OutboxRelay<E extends OutboxEvent = OutboxEvent> implements TransactionRider {
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly reportEveryMs: number;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  /** Set while the relay rests after a failed round; its end starts the next round. */
  private rest: NodeJS.Timeout | undefined;
  /** Failed rounds in a row (a `drainOnce()` is a round); 0 after a successful one. */
  private failures = 0;
  /** When the first failed round of the current run ended, and when it was last reported. */
  private failingSince = new Date(0);
  private reportedAt = new Date(0);
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Positions the stream acknowledged whose rows are not deleted yet (skipped when reading). */
  private readonly published = new Set<number>();
  /** Those of {@link published} no transaction has taken to delete yet. */
  private unclaimed: number[] = [];
  /** True once an outbox carries the deletes; otherwise each round deletes its own rows. */
  private carried = false;
  /** A timer wake-up came: delete the acknowledged rows still waiting at the end of the round. */
  private tidy = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: OutboxPublisher<E>,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1_000;
    this.intervalMs = options.intervalMs ?? 1_000;
    this.reportEveryMs = options.reportEveryMs ?? 60_000;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Publishes every row present now (a crash's leftovers), then keeps draining. A failure of that
   * first round is reported and retried after the backoff like any other, so a stream that is
   * briefly away does not stop the app from starting.
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.wake(true);
    await this.running;
    // The timer also tidies: acknowledged rows no transaction came to delete are deleted then.
    this.timer = setInterval(() => this.wake(true), this.intervalMs);
    this.timer.unref();
  }

  /** Rows the stream acknowledged that wait to be deleted (status pages, tests). */
  get awaitingDelete(): number {
    return this.published.size;
  }

  /** Failed rounds in a row, `drainOnce()` included (0 once one succeeded): a gauge for the apps' metrics. */
  get failedRoundsInARow(): number {
    return this.failures;
  }

  /**
   * Asks for a drain soon; cheap to call after every commit. `tidy`: also delete acknowledged rows
   * left waiting. During a round or the rest after a failed one it only notes that a round is wanted.
   */
  wake(tidy = false): void {
    if (this.stopped) return;
    if (tidy) this.tidy = true;
    if (this.running || this.rest) {
      this.again = true;
      return;
    }
    this.running = this.track(this.loop());
  }

  /**
   * {@link TransactionRider}: deletes the acknowledged rows not yet deleted inside the caller's
   * transaction (see `Outbox.carry`); if the delete fails or the transaction rolls back they wait
   * for the next one.
   */
  async ride(manager: EntityManager): Promise<((committed: boolean) => void) | undefined> {
    this.carried = true;
    if (this.unclaimed.length === 0) return undefined;
    const positions = this.unclaimed.sort((a, b) => a - b);
    this.unclaimed = [];
    try {
      await deleteOutboxRows(manager, positions);
    } catch (error) {
      // Still in `published` (skipped by every read): unless claimed again they would stay until a restart.
      this.unclaimed.push(...positions);
      throw error;
    }
    return (committed) => {
      if (committed) for (const position of positions) this.published.delete(position);
      else this.unclaimed.push(...positions);
    };
  }

  /** Clears `running` when `round` settles, and starts another if a wake-up came meanwhile. */
  private track(round: Promise<void>): Promise<void> {
    return this.settled(round.catch((error: unknown) => this.failed(error)));
  }

  /**
   * Resolves (never rejects) when `round` settles, after clearing `running` and starting the next
   * round if a wake-up came meanwhile. The round's own caller sees its failure, if any.
   */
  private settled(round: Promise<unknown>): Promise<void> {
    return round.then(
      () => this.next(),
      () => this.next(),
    );
  }

  private next(): void {
    this.running = undefined;
    if (this.again && !this.stopped) this.wake();
  }

  /**
   * Stops the timer and ends a rest at once, waits for the round in progress, then deletes the
   * acknowledged rows left (best effort).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.rest) clearTimeout(this.rest);
    this.rest = undefined;
    await this.running;
    await this.deleteUnclaimed().catch((error: unknown) => this.failed(error));
  }

  /**
   * Publishes rows until the outbox is empty (or a round publishes nothing) and deletes them;
   * returns how many this call published (rows a round already running published are not
   * counted); throws what failed. Tries at once, even while the running relay rests after a
   * failed round (shutdown, tests); the running relay drains on its own.
   *
   * A round already running is waited for first, and this call then is the running round: two
   * rounds at once would read the same rows — those one of them is still publishing are not yet
   * marked published — and publish them twice (the stream's duplicate window would drop the copy,
   * but each costs an append and a deduplication entry). A wake-up during it only notes that a
   * round is wanted; `stop()` waits for it like for any round.
   *
   * It counts as a round, because it is one more answer from the same stream and database: a
   * success ends a run of failed rounds like a successful round does (the count behind
   * {@link failedRoundsInARow} goes back to 0, `recovered` is reported once, a rest in progress
   * ends and a wake-up noted during it starts a round); a failure counts as a failed round (the
   * count goes up, `failing` is reported at the usual bounded rate, a running relay rests) and
   * is thrown as well. Otherwise the gauge and its alert would go on saying "failing" after the
   * stream had taken everything, and the next failure would rest as if the run had never ended.
   */
  async drainOnce(): Promise<number> {
    // A round that ends may start the next one (a wake-up came during it): wait until none runs.
    while (this.running) await this.running;
    const round = this.drainNow();
    this.running = this.settled(round);
    return round;
  }

  /** `drainOnce()`'s round: drain, delete what waits, and count the round's outcome. */
  private async drainNow(): Promise<number> {
    let total: number;
    try {
      total = await this.drain();
      await this.deleteUnclaimed();
    } catch (error) {
      this.failed(error);
      throw error;
    }
    this.succeeded();
    this.endRest();
    return total;
  }

  /** Ends a rest early (the stream answered after all); a wake-up noted during it starts a round. */
  private endRest(): void {
    if (!this.rest) return;
    clearTimeout(this.rest);
    this.rest = undefined;
    if (this.again) this.wake();
  }

  /** Publishes rows until none is left unpublished; their deletes may wait for a transaction. */
  private async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      // Rows published but not yet deleted are left out. The copy is taken before the read: a
      // delete that commits during the read (Postgres) takes its rows out of `published` first.
      const rows = await readOutboxRows(this.dataSource, this.batchSize, [...this.published]);
      if (rows.length === 0) return total;
      const published = await this.publishRound(rows);
      if (published.failure !== undefined) throw published.failure;
      total += published.count;
      // Deleted here when no outbox carries the deletes, or too many wait (a quiet outbox, a big backlog).
      if (!this.carried || this.published.size >= this.batchSize) await this.deleteUnclaimed();
      if (rows.length < this.batchSize) return total;
    }
  }

  /** Deletes the acknowledged rows no transaction has taken, in a commit of their own. */
  private async deleteUnclaimed(): Promise<void> {
    if (this.unclaimed.length === 0) return;
    const positions = this.unclaimed.sort((a, b) => a - b);
    this.unclaimed = [];
    try {
      await deleteOutboxRows(this.dataSource, positions);
    } catch (error) {
      this.unclaimed.push(...positions);
      throw error;
    }
    for (const position of positions) this.published.delete(position);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const tidy = this.tidy;
      this.tidy = false;
      try {
        await this.drain();
        if (tidy) await this.deleteUnclaimed();
      } catch (error) {
        this.failed(error); // the next round comes after the rest: retrying at once would spin while the stream refuses
        return;
      }
      this.succeeded();
    } while (this.again && !this.stopped);
  }

  /** Counts a failed round, starts the rest before the next one, and reports it unless reported lately. */
  private failed(error: unknown): void {
    const now = this.now();
    this.failures++;
    if (this.failures === 1) this.failingSince = now;
    if (!this.stopped && !this.rest) {
      this.rest = setTimeout(
        () => {
          this.rest = undefined;
          this.wake();
        },
        backoffDelay(this.options.backoff ?? RELAY_BACKOFF, this.failures),
      );
      this.rest.unref();
    }
    if (this.failures > 1 && now.getTime() - this.reportedAt.getTime() < this.reportEveryMs) return;
    this.reportedAt = now;
    this.report({ kind: 'failing', error, failedRounds: this.failures, since: this.failingSince });
  }

  /** Ends a run of failed rounds: the backoff starts over, and the recovery is reported once. */
  private succeeded(): void {
    if (this.failures === 0) return;
    const failedRounds = this.failures;
    this.failures = 0;
    this.report({ kind: 'recovered', failedRounds, since: this.failingSince });
  }

  private report(report: OutboxRelayReport): void {
    try {
      this.options.onReport?.(report);
    } catch {
      // A broken logger must not stop the relay: the rows are retried all the same.
    }
  }

  /** Publishes one row: its stored bytes as they are when the publisher takes them, else the parsed event. */
  private publishRow(row: OutboxRow): Promise<unknown> {
    if (this.publisher.publishStored)
      return this.publisher.publishStored({ id: row.eventId, type: row.type, subject: row.key, payload: row.payload });
    return this.publisher.publish(JSON.parse(row.payload) as E);
  }

  /** Publishes `rows` (per key in order, keys in parallel); those acknowledged wait to be deleted. */
  private async publishRound(rows: readonly OutboxRow[]): Promise<{ count: number; failure: unknown }> {
    const byKey = new Map<string, OutboxRow[]>();
    for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
    const acked: number[] = [];
    let failure: unknown;
    await Promise.all(
      [...byKey.values()].map(async (chain) => {
        for (const row of chain) {
          try {
            await this.publishRow(row);
          } catch (error) {
            failure ??= error;
            return; // later rows of this key wait, or they would overtake this one
          }
          acked.push(row.position);
        }
      }),
    );
    for (const position of acked) this.published.add(position);
    this.unclaimed.push(...acked);
    return { count: acked.length, failure };
  }
}
