import type { DataSource, EntityManager } from 'typeorm';
import { runInTransaction } from '@idm/persistence';

/** Hands an event publish to the batch; it runs before the commit, in order per `key`. */
export type DeferPublish = (key: string, publish: () => Promise<unknown>) => void;

/** One unit of work: its writes through `manager`, its publishes through `defer`. */
export type GroupWork<T> = (manager: EntityManager, defer: DeferPublish) => Promise<T>;

interface Job {
  readonly work: GroupWork<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit: units of work queued while a transaction is running are run together in the next
 * one, and their event publishes are sent concurrently (in order per key, i.e. per user) just
 * before the one commit.
 *
 * Why: SQLite transactions of a DataSource take turns, and each used to hold the turn across a
 * JetStream round trip and an fsync; under a burst of changes that turn was the bottleneck.
 * The guarantees of a single transaction are kept: a unit's state and its events commit together
 * or not at all; publishing still happens before the commit (a retry after a failed commit
 * derives the same ids, and JetStream drops the repeats).
 *
 * Failures: when anything in a batch throws, the whole transaction rolls back and each unit is
 * run again alone (a publish that had gone out is repeated with the same id; JetStream drops it), so a unit fails only by its own
 * failure (its caller retries as before: the command replies "try again", a delivery is nak'ed,
 * the sweeper runs again). Units must therefore be safe to run twice: they are, since all they
 * do is read and write through `manager` and hand publishes to `defer`.
 */
export class GroupCommit {
  private readonly queue: Job[] = [];
  private draining = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly maxBatch = 256,
  ) {}

  run<T>(work: GroupWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work: work as GroupWork<unknown>, resolve: resolve as (value: unknown) => void, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) await this.runBatch(this.queue.splice(0, this.maxBatch));
    } finally {
      this.draining = false;
    }
  }

  private async runBatch(batch: readonly Job[]): Promise<void> {
    try {
      const values = await this.commitTogether(batch);
      batch.forEach((job, i) => job.resolve(values[i]));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // Nothing of the batch was committed or published: run each unit alone, so one unit's
      // failure is that unit's only.
      for (const job of batch) {
        await this.commitTogether([job]).then(
          ([value]) => job.resolve(value),
          (e: unknown) => job.reject(e),
        );
      }
    }
  }

  /** Runs the units in one transaction; their publishes go out concurrently (in order per key) before the commit. */
  private commitTogether(batch: readonly Job[]): Promise<unknown[]> {
    return runInTransaction(this.dataSource, async (manager) => {
      const chains = new Map<string, Array<() => Promise<unknown>>>();
      const defer: DeferPublish = (key, publish) => chains.set(key, [...(chains.get(key) ?? []), publish]);
      const values: unknown[] = [];
      for (const job of batch) values.push(await job.work(manager, defer));
      await Promise.all(
        [...chains.values()].map(async (publishes) => {
          for (const publish of publishes) await publish();
        }),
      );
      return values;
    });
  }
}
