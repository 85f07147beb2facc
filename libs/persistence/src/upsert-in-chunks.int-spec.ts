import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { runInTransaction } from './index.js';
import { SpecCounter } from './spec-support/counter.fixture.js';
import { databaseKinds, testOnDatabase } from './spec-support/test-databases.js';
import { upsertInChunks } from './upsert-in-chunks.js';

for (const kind of databaseKinds) {
  describe(`upsertInChunks on ${kind}`, () => {
    testOnDatabase(kind, 'inserts new rows and updates existing ones, across chunks', async (db) => {
      const ds = await db.open();
      const rows = (value: number) => ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, value }));
      const options = { update: ['value'], conflict: ['id'], chunk: 2 };
      await runInTransaction(ds, (m) => upsertInChunks(m, SpecCounter, rows(1), options));
      await runInTransaction(ds, (m) => upsertInChunks(m, SpecCounter, [...rows(2).slice(1, 4), { id: 'f', value: 3 }], options));
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
  });
}
