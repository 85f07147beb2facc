import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in one transaction: READ COMMITTED on Postgres; on SQLite (a DataSource from
 * `openDatabase`) serialised with every other transaction of the same DataSource, see
 * `SqliteTransactionGate` for why. Commits when `work` resolves, rolls back and rethrows when it
 * rejects.
 */
export async function runInTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (dataSource.options.type === 'postgres') return dataSource.transaction('READ COMMITTED', work);
  return dataSource.transaction(work);
}
