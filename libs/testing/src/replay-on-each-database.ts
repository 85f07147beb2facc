import assert from 'node:assert/strict';
import { onEachTestDatabase, type TestDatabase, type TestDatabaseLocation } from './test-databases.js';

/** What {@link fullThenPartialReplayOnEachDatabase} needs from one app's replay projection spec. */
export interface ReplayOnEachDatabase<Db extends { destroy(): Promise<void> }, Rows> {
  /** The app's `open<App>Database` at a test location. */
  readonly open: (location: TestDatabaseLocation) => Promise<Db>;
  /** One replay into `db` (`fromSeq` undefined: the whole log); resolves with the last sequence read. */
  readonly replay: (db: Db, fromSeq: number | undefined) => Promise<{ readonly lastSeq: number }>;
  /** The projection's rows, in a stable order and with engine differences (bigint, numeric text) folded. */
  readonly dump: (db: Db) => Promise<Rows>;
  /** The log's last sequence: the full replay must reach it; the partial one starts half-way. */
  readonly lastSeq: number;
  /** App-specific checks of the rows the full replay wrote. */
  readonly checkFull?: (rows: Rows, kind: TestDatabase['kind']) => void;
}

/**
 * The replay projection contract, on each available test database: a full replay reaches the
 * log's end, and a partial replay from half-way over the rows already there leaves them exactly as
 * they were. Resolves with the rows of each engine, so the spec can assert Postgres and SQLite
 * agree; says through `skip` (the test's `t.diagnostic`) why an engine did not run.
 */
export function fullThenPartialReplayOnEachDatabase<Db extends { destroy(): Promise<void> }, Rows>(
  dbs: readonly TestDatabase[],
  spec: ReplayOnEachDatabase<Db, Rows>,
  skip: (message: string) => void,
): Promise<Partial<Record<TestDatabase['kind'], Rows>>> {
  return onEachTestDatabase(
    dbs,
    async (location, kind) => {
      const db = await spec.open(location);
      try {
        const full = await spec.replay(db, undefined);
        assert.equal(full.lastSeq, spec.lastSeq, `${kind}: the full replay stopped before the log's end`);
        const afterFull = await spec.dump(db);
        spec.checkFull?.(afterFull, kind);
        // A partial replay over rows already there must land on the same state.
        await spec.replay(db, Math.floor(spec.lastSeq / 2));
        assert.deepEqual(await spec.dump(db), afterFull, `${kind}: partial replay changed the rows`);
        return afterFull;
      } finally {
        await db.destroy();
      }
    },
    skip,
  );
}
