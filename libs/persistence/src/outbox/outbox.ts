import type { DataSource, EntityManager } from 'typeorm';
import { Inbox, inboxKeyOf, type InboxKey } from '../inbox.js';
import { runInTransaction } from '../run-in-transaction.js';
import { insertOutboxRows, type OutboxEvent } from './outbox-rows.js';

/** What a unit of work gets: the transaction, and where to put the events it wants published. */
export interface UnitOfWork<E extends OutboxEvent> {
  /** The transaction's manager; do every write through it, or the write escapes the transaction. */
  readonly manager: EntityManager;
  /** Queues events for the outbox; they are written with the unit's state, in the order emitted. */
  emit(events: readonly E[]): void;
}

/**
 * A unit of work written for many deliveries at once (see {@link Outbox.batched}, and
 * {@link Outbox.batchedRun} for inputs without an inbox row): it gets the inputs of one
 * transaction that are not duplicates, in lock order, and returns one result per
 * input, in the same order. Load and save with set-based statements; that is the point.
 */
export type BatchWork<E extends OutboxEvent, I, T> = (unit: UnitOfWork<E>, inputs: readonly I[]) => Promise<readonly T[]>;

/** Outcome of {@link Outbox.once}: a duplicate ran no work. */
export type OnceResult<T> = { readonly duplicate: true } | { readonly duplicate: false; readonly result: T };

/** The inbox key of a delivery, plus the key whose rows the work locks (the user id), for one lock order. */
export interface OnceKey extends InboxKey {
  /** Units of a batch run sorted by this key (Postgres: one lock order, no deadlock between replicas). */
  readonly lockKey?: string;
}

/**
 * Writes that ride along in every outbox transaction (the relay's deletes of published rows, see
 * {@link Outbox.carry}), so they cost no commit of their own.
 */
export interface TransactionRider {
  /**
   * Writes through `manager` inside the transaction, after the units' work; returns a callback told
   * whether that transaction committed (`true`) or rolled back (`false`), or nothing if it wrote
   * nothing. Throwing rolls the transaction back like a failing unit.
   */
  ride(manager: EntityManager): Promise<((committed: boolean) => void) | undefined>;
}

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  /**
   * Group commit: units submitted while a transaction runs are committed together in the next one
   * (at most `maxBatch`, default 256), after waiting up to `lingerMs` (default 0) for more.
   * Up to `parallel` (default 1) such transactions run at once: on Postgres, where a transaction is
   * round trips to the server, a few in parallel keep the server busy; on SQLite transactions take
   * turns anyway. Without the option every unit has its own transaction.
   */
  readonly groupCommit?: { readonly maxBatch?: number; readonly lingerMs?: number; readonly parallel?: number };
  /** Time source of `processed_at` / `created_at`. */
  readonly now?: () => Date;
}

interface Job {
  /** The inbox key; undefined for a unit without an inbox row ({@link Outbox.run}, {@link Outbox.batchedRun}). */
  readonly key: OnceKey | undefined;
  /** Where the unit goes in the batch's lock order. */
  readonly lockKey: string;
  readonly work: (unit: UnitOfWork<OutboxEvent>) => Promise<unknown>;
  /** Set for a unit submitted through {@link Outbox.batched} / {@link Outbox.batchedRun}: its input and the shared work. */
  readonly batch?: { readonly work: BatchWork<OutboxEvent, unknown, unknown>; readonly input: unknown };
  readonly resolve: (outcome: OnceResult<unknown>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The exactly-once primitive: a unit of work's state change, its inbox row `(consumer, eventId)`
 * and the events it emits (outbox rows) commit in ONE transaction. An {@link OutboxRelay}
 * publishes the rows afterwards, so an event is never lost between commit and publish and never
 * published for a rolled-back change.
 *
 * - `once(key, work)`: an event already in the inbox (committed earlier, or by a concurrent
 *   redelivery that committed first) runs no work and returns `{ duplicate: true }`.
 * - `run(work)`: the same without an inbox row (commands, sweeps, the outcomes of the app's own
 *   side effects); `batchedRun(work)` is its set-based form, as `batched(work)` is `once`'s.
 * - `work` throws: the transaction rolls back (no state, no inbox row, no outbox row) and the
 *   promise rejects with the error, so the transport naks or dead-letters the delivery.
 * - The promise resolves only after the commit: ack the delivery then, its effect is durable.
 * - Group commit (option): several units in one transaction, each resolved after that commit;
 *   if the transaction fails, each unit is retried alone, so one bad unit fails alone. Units must
 *   therefore be safe to run twice (they are if they only read and write through `manager`).
 * - Postgres READ COMMITTED; SQLite transactions of the DataSource are serialised.
 *
 * @example
 * ```ts
 * const outbox = new Outbox<IdmEvent>(dataSource, { groupCommit: { maxBatch: 256 } });
 * const relay = new OutboxRelay<IdmEvent>(dataSource, eventPublisher);
 * outbox.onCommitted(() => relay.wake());
 * outbox.carry(relay);                                   // its deletes of published rows ride in our commits
 * await relay.start();                                   // publishes what a crash left behind
 * const r = await outbox.once({ consumer, eventId: event.id, streamSeq, lockKey: event.subject }, async ({ manager, emit }) => {
 *   await manager.getRepository(Recipient).save(next);   // state + inbox row + outbox rows: one transaction
 *   emit([welcomeQueued]);
 * });
 * ```
 */
export class Outbox<E extends OutboxEvent = OutboxEvent> {
  private readonly queue: Job[] = [];
  private draining = 0;
  private readonly parallel: number;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly now: () => Date;
  private readonly committedListeners: Array<(events: readonly E[]) => void> = [];
  private readonly riders: TransactionRider[] = [];

  constructor(
    private readonly dataSource: DataSource,
    options: OutboxOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.groupCommit?.maxBatch ?? (options.groupCommit ? 256 : 1));
    this.lingerMs = options.groupCommit?.lingerMs ?? 0;
    this.parallel = Math.max(1, options.groupCommit?.parallel ?? 1);
    this.now = options.now ?? (() => new Date());
  }

  /** Runs `work` unless `key` is already in the inbox; see the class comment. */
  once<T>(key: OnceKey, work: (unit: UnitOfWork<E>) => Promise<T>): Promise<OnceResult<T>> {
    return this.submit(key, key.lockKey, work);
  }

  /** Runs `work` with no inbox row; its writes and emitted events commit together. */
  async run<T>(work: (unit: UnitOfWork<E>) => Promise<T>): Promise<T> {
    const outcome = await this.submit(undefined, '', work);
    if (outcome.duplicate) throw new Error('unreachable: a unit without an inbox key cannot be a duplicate');
    return outcome.result;
  }

  /**
   * The same guarantees as {@link once}, for work that is cheaper per delivery when written for
   * many: the returned function submits one delivery; the deliveries of a group-committed
   * transaction that are not duplicates are handed to `work` together (each input once, in lock
   * order), and each caller gets its own result after the commit. If the transaction fails, each
   * delivery is retried alone (`work` with one input), so one bad input fails alone.
   */
  batched<I, T>(work: BatchWork<E, I, T>): (key: OnceKey, input: I) => Promise<OnceResult<T>> {
    const shared = work as unknown as BatchWork<OutboxEvent, unknown, unknown>;
    return (key, input) => this.submit<T>(key, key.lockKey, batchOnly, { work: shared, input });
  }

  /**
   * {@link batched} without an inbox row, as {@link run} is {@link once} without one: for work
   * that is not the handling of a delivery (the outcomes of a send the app did itself). The
   * returned function submits one input; inputs of one group-committed transaction are handed to
   * `work` together, in `lockKey` order, and each caller gets its own result after the commit.
   * If the transaction fails, each input is retried alone, so one bad input fails alone (its
   * promise rejects with the error; nothing of it was written).
   */
  batchedRun<I, T>(work: BatchWork<E, I, T>): (input: I, lockKey?: string) => Promise<T> {
    const shared = work as unknown as BatchWork<OutboxEvent, unknown, unknown>;
    return async (input, lockKey = '') => {
      const outcome = await this.submit<T>(undefined, lockKey, batchOnly, { work: shared, input });
      if (outcome.duplicate) throw new Error('unreachable: a unit without an inbox key cannot be a duplicate');
      return outcome.result;
    };
  }

  /**
   * Calls `listener` after every commit that wrote outbox rows, with the events of those rows (in
   * the order emitted): wake the relay; count what was stored — once per commit, where a relay may
   * publish a row again after a crash. A throwing listener is ignored: the commit stands.
   */
  onCommitted(listener: (events: readonly E[]) => void): void {
    this.committedListeners.push(listener);
  }

  /** Lets `rider` write inside every later transaction of this outbox (e.g. `outbox.carry(relay)`). */
  carry(rider: TransactionRider): void {
    this.riders.push(rider);
  }

  private submit<T>(
    key: OnceKey | undefined,
    lockKey: string | undefined,
    work: (unit: UnitOfWork<E>) => Promise<T>,
    batch?: Job['batch'],
  ): Promise<OnceResult<T>> {
    return new Promise<OnceResult<T>>((resolve, reject) => {
      const job: Job = {
        key,
        lockKey: lockKey ?? '',
        work: work as unknown as Job['work'],
        ...(batch ? { batch } : {}),
        resolve: resolve as Job['resolve'],
        reject,
      };
      // Without group commit each unit has its own transaction, concurrently with the others.
      if (this.maxBatch === 1) void this.settle([job]);
      else {
        this.queue.push(job);
        void this.drain();
      }
    });
  }

  /**
   * One of up to `parallel` lanes taking batches off the queue. Units of one key never share two
   * running batches as long as the caller submits a key's next unit only after the previous one
   * resolved (the transport handles one event per key at a time), so per-key order holds.
   */
  private async drain(): Promise<void> {
    if (this.draining >= this.parallel) return;
    this.draining++;
    try {
      if (this.lingerMs > 0 && this.queue.length < this.maxBatch) await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
      while (this.queue.length > 0) await this.settle(this.queue.splice(0, this.maxBatch));
    } finally {
      this.draining--;
    }
  }

  /** Commits the batch and settles every unit of it; never rejects. */
  private async settle(batch: readonly Job[]): Promise<void> {
    try {
      const outcomes = await this.commit(batch);
      batch.forEach((job, i) => job.resolve(outcomes[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Nothing of the batch was committed: run each unit alone, so a failure is its unit's only.
      for (const job of batch) await this.settle([job]);
    }
  }

  private async commit(batch: readonly Job[]): Promise<Array<OnceResult<unknown>>> {
    const at = this.now();
    let committed: readonly OutboxEvent[] = [];
    const landed: Array<(committed: boolean) => void> = [];
    const outcomes = await runInTransaction(this.dataSource, async (manager) => {
      const keys = batch.flatMap((job) => (job.key ? [job.key] : []));
      const owned = await Inbox.recordAll(manager, keys, at);
      const emitted: OutboxEvent[] = [];
      const out: Array<OnceResult<unknown>> = new Array<OnceResult<unknown>>(batch.length);
      const unit: UnitOfWork<OutboxEvent> = { manager, emit: (more) => emitted.push(...more) };
      // Batched units: one call per batch work with its fresh inputs; then the single units.
      const groups = new Map<BatchWork<OutboxEvent, unknown, unknown>, number[]>();
      for (const i of lockOrder(batch)) {
        const job = batch[i]!;
        if (job.key && !owned.delete(inboxKeyOf(job.key))) {
          out[i] = { duplicate: true };
          continue;
        }
        if (job.batch) groups.set(job.batch.work, [...(groups.get(job.batch.work) ?? []), i]);
      }
      for (const [work, indexes] of groups) {
        const results = await work(
          unit,
          indexes.map((i) => batch[i]!.batch!.input),
        );
        if (results.length !== indexes.length)
          throw new Error(`batch work returned ${results.length} results for ${indexes.length} inputs`);
        indexes.forEach((i, n) => (out[i] = { duplicate: false, result: results[n] }));
      }
      for (const i of lockOrder(batch)) {
        const job = batch[i]!;
        if (out[i] !== undefined) continue;
        const events: OutboxEvent[] = [];
        const result = await job.work({ manager, emit: (more) => events.push(...more) });
        emitted.push(...events);
        out[i] = { duplicate: false, result };
      }
      await insertOutboxRows(manager, emitted, at);
      committed = emitted;
      for (const rider of this.riders) {
        const done = await rider.ride(manager);
        if (done) landed.push(done);
      }
      return out;
    }).catch((error: unknown) => {
      for (const done of landed) done(false);
      throw error;
    });
    for (const done of landed) done(true);
    if (committed.length > 0) for (const listener of this.committedListeners) notify(listener, committed as readonly E[]);
    return outcomes;
  }
}

function notify<E>(listener: (events: readonly E[]) => void, events: readonly E[]): void {
  try {
    listener(events);
  } catch {
    // A listener (metrics) must not turn a committed unit into a failure its caller would retry.
  }
}

/** The single-unit work of a batched unit: never called, the unit runs through its batch work. */
function batchOnly(): Promise<never> {
  return Promise.reject(new Error('unreachable: a batched unit runs through its batch work'));
}

/** Indexes of `batch` sorted by lock key (stable: units of one key keep their arrival order). */
function lockOrder(batch: readonly Job[]): number[] {
  const keyOf = (i: number): string => batch[i]!.lockKey;
  return batch.map((_, i) => i).sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : a - b));
}
