import assert from 'node:assert/strict';
import type { MemoryLog } from './memory-log.js';
import { onEachTestDatabase, testDatabases, type TestDatabase, type TestDatabaseLocation } from './test-databases.js';

/** What {@link fullThenPartialReplayOnEachDatabase} needs from one app's replay projection spec. */
export interface ReplayOnEachDatabase<Db extends { destroy(): Promise<void> }, Rows> {
  /**
   * The log replayed, held in memory (reading JetStream in batches is `readStreamInBatches`' own
   * spec; this one is about the rows each engine ends up with). The full replay must reach its last
   * sequence; the partial one starts half-way.
   */
  readonly log: MemoryLog;
  /** The app's `open<App>Database` at a test location. */
  readonly open: (location: TestDatabaseLocation) => Promise<Db>;
  /**
   * One replay of the log (read through `read`) into `db` (`fromSeq` undefined: the whole log);
   * resolves with the last sequence read.
   */
  readonly replay: (db: Db, read: MemoryLog['read'], fromSeq: number | undefined) => Promise<{ readonly lastSeq: number }>;
  /** The projection's rows, in a stable order and with engine differences (bigint, numeric text) folded. */
  readonly dump: (db: Db) => Promise<Rows>;
  /** App-specific checks of the rows the full replay wrote. */
  readonly checkFull?: (rows: Rows, kind: TestDatabase['kind']) => void;
}

/**
 * The replay projection contract, on each available test database (fresh ones, dropped
 * afterwards, even when a replay fails): a full replay reaches the log's end, and a partial replay
 * from half-way over the rows already there leaves them exactly as they were. Resolves with the
 * rows of each engine, so the spec can assert Postgres and SQLite agree; says through `skip` (the
 * test's `t.diagnostic`) why an engine did not run.
 */
export async function fullThenPartialReplayOnEachDatabase<Db extends { destroy(): Promise<void> }, Rows>(
  spec: ReplayOnEachDatabase<Db, Rows>,
  skip: (message: string) => void,
): Promise<Partial<Record<TestDatabase['kind'], Rows>>> {
  const { log } = spec;
  const dbs = await testDatabases();
  try {
    return await onEachTestDatabase(
      dbs,
      async (location, kind) => {
        const db = await spec.open(location);
        try {
          const full = await spec.replay(db, log.read, undefined);
          assert.equal(full.lastSeq, log.lastSeq, `${kind}: the full replay stopped before the log's end`);
          const afterFull = await spec.dump(db);
          spec.checkFull?.(afterFull, kind);
          // A partial replay over rows already there must land on the same state.
          await spec.replay(db, log.read, Math.floor(log.lastSeq / 2));
          assert.deepEqual(await spec.dump(db), afterFull, `${kind}: partial replay changed the rows`);
          return afterFull;
        } finally {
          await db.destroy();
        }
      },
      skip,
    );
  } finally {
    for (const db of dbs) if (db.unavailable === undefined) await db.dispose();
  }
}
