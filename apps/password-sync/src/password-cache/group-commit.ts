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
 * one, each inside its own savepoint, and their event publishes are sent concurrently (in order
 * per key, i.e. per user) just before the one commit.
 *
 * Why: SQLite transactions of a DataSource take turns, and each used to hold the turn across a
 * JetStream round trip and an fsync; under a burst of changes that turn was the bottleneck.
 * The guarantees of a single transaction are kept: a unit's state and its events commit together
 * or not at all; publishing still happens before the commit (a retry after a failed commit
 * derives the same ids, and JetStream drops the repeats).
 *
 * Failures: a unit that throws is rolled back to its savepoint and rejected alone. A failed
 * publish or commit rejects every unit of the batch (their callers retry as before: the command
 * replies "try again", a delivery is nak'ed, the sweeper runs again).
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
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    try {
      await runInTransaction(this.dataSource, async (manager) => {
        const chains = new Map<string, Array<() => Promise<unknown>>>();
        for (const job of batch) {
          const mine: Array<[string, () => Promise<unknown>]> = [];
          await manager.query('SAVEPOINT group_unit');
          try {
            const value = await job.work(manager, (key, publish) => mine.push([key, publish]));
            await manager.query('RELEASE SAVEPOINT group_unit');
            for (const [key, publish] of mine) chains.set(key, [...(chains.get(key) ?? []), publish]);
            outcomes.push({ ok: true, value });
          } catch (err) {
            await manager.query('ROLLBACK TO SAVEPOINT group_unit');
            await manager.query('RELEASE SAVEPOINT group_unit');
            outcomes.push({ ok: false, err });
          }
        }
        await Promise.all(
          [...chains.values()].map(async (publishes) => {
            for (const publish of publishes) await publish();
          }),
        );
      });
    } catch (err) {
      for (const job of batch) job.reject(err);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.err);
    });
  }
}
