import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in one transaction: READ COMMITTED on Postgres (the session default a DataSource
 * from `openDatabase` sets, so beginning costs one round trip, not two); on SQLite (a DataSource
 * from `openDatabase`) serialised with every other transaction of the same DataSource, see
 * `SqliteTransactionGate` for why. Commits when `work` resolves, rolls back and rethrows when it
 * rejects.
 */
export async function runInTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction(work);
}
