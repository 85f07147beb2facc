import type { DataSource, EntityManager } from 'typeorm';
import { Inbox } from './inbox.js';
import { runInTransaction } from './run-in-transaction.js';

/** Outcome of {@link processOnce}. */
export type ProcessOnceResult<T> = { readonly duplicate: true } | { readonly duplicate: false; readonly result: T };

/** Postgres unique_violation: only reachable under an isolation stricter than READ COMMITTED. */
const UNIQUE_VIOLATION = '23505';

/**
 * Applies an event's state change exactly once per consumer: one transaction inserts the inbox
 * row `(consumer, eventId)` first, then runs `work(manager)`; both commit together.
 * - Already processed (sequentially or by a concurrent redelivery that committed first):
 *   `work` is not run and `{ duplicate: true }` is returned.
 * - `work` throws: the transaction rolls back (no state, no inbox row) and the error propagates,
 *   so the messaging layer can nak (see `isTransientDatabaseError`) or dead-letter.
 * Postgres: READ COMMITTED; a concurrent duplicate blocks on the inbox row until the first
 * commits. SQLite: transactions of the DataSource are serialised.
 * Do all writes through `manager`, never through the DataSource, or they escape the transaction.
 */
export async function processOnce<T>(
  dataSource: DataSource,
  consumer: string,
  eventId: string,
  streamSeq: number | undefined,
  work: (manager: EntityManager) => Promise<T>,
): Promise<ProcessOnceResult<T>> {
  try {
    return await runInTransaction<ProcessOnceResult<T>>(dataSource, async (manager) => {
      if (!(await Inbox.record(manager, consumer, eventId, streamSeq))) return { duplicate: true };
      return { duplicate: false, result: await work(manager) };
    });
  } catch (err) {
    if (
      (err as { driverError?: { code?: unknown } }).driverError?.code === UNIQUE_VIOLATION &&
      (await Inbox.seen(dataSource, consumer, eventId))
    ) {
      return { duplicate: true };
    }
    throw err;
  }
}
