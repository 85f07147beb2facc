import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { runInTransaction, tableOf } from './index.js';
import { SpecCounter } from './spec-support/counter.fixture.js';
import { databaseKinds, testOnDatabase } from './spec-support/test-databases.js';
import { setExcluded, upsertRows, type UpsertStatement } from './upsert-rows.js';

/** The upsert of `spec_counter` rows `[id, value]`, with `set` on a conflict. */
function counterUpsert(ds: DataSource, set: string, sqliteChunk: number): UpsertStatement {
  return { table: tableOf(ds, SpecCounter), columns: { id: 'varchar', value: 'integer' }, conflict: ['id'], set, sqliteChunk };
}

for (const kind of databaseKinds) {
  describe(`upsertRows on ${kind}`, () => {
    testOnDatabase(kind, 'inserts new rows and updates existing ones, across SQLite chunks', async (db) => {
      const ds = await db.open();
      const statement = counterUpsert(ds, setExcluded(['value']), 2);
      const rows = (value: number) => ['a', 'b', 'c', 'd', 'e'].map((id) => [id, value]);
      await runInTransaction(ds, (m) => upsertRows(m, statement, rows(1)));
      await runInTransaction(ds, (m) => upsertRows(m, statement, [...rows(2).slice(1, 4), ['f', 3]]));
      await runInTransaction(ds, (m) => upsertRows(m, statement, []));
      const stored = await ds.getRepository(SpecCounter).find({ order: { id: 'ASC' } });
      assert.deepEqual(
        stored.map((r) => [r.id, r.value]),
        [
          ['a', 1],
          ['b', 2],
          ['c', 2],
          ['d', 2],
          ['e', 1],
          ['f', 3],
        ],
      );
    });

    testOnDatabase(kind, 'a SET list may read the stored row (here: the larger value wins)', async (db) => {
      const ds = await db.open();
      const statement = counterUpsert(
        ds,
        'value = CASE WHEN excluded.value > spec_counter.value THEN excluded.value ELSE spec_counter.value END',
        500,
      );
      await runInTransaction(ds, (m) =>
        upsertRows(m, statement, [
          ['a', 5],
          ['b', 1],
        ]),
      );
      await runInTransaction(ds, (m) =>
        upsertRows(m, statement, [
          ['a', 2],
          ['b', 7],
        ]),
      );
      const stored = await ds.getRepository(SpecCounter).find({ order: { id: 'ASC' } });
      assert.deepEqual(
        stored.map((r) => [r.id, r.value]),
        [
          ['a', 5],
          ['b', 7],
        ],
      );
    });
  });
}
