import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { advanceCheckpoint, runInTransaction } from './index.js';
import { readCheckpoint } from './projection-checkpoint.js';
import { databaseKinds, testOnDatabase } from './spec-support/test-databases.js';

for (const kind of databaseKinds) {
  describe(`projection checkpoint on ${kind}`, () => {
    testOnDatabase(kind, 'moves forward only', async (db) => {
      const ds = await db.open();
      assert.equal(await readCheckpoint(ds, 'pending-emails'), undefined);
      assert.equal(await runInTransaction(ds, (m) => advanceCheckpoint(m, 'pending-emails', 5)), true);
      assert.equal(await runInTransaction(ds, (m) => advanceCheckpoint(m, 'pending-emails', 3)), false);
      assert.equal(await runInTransaction(ds, (m) => advanceCheckpoint(m, 'pending-emails', 5)), false);
      assert.equal(await readCheckpoint(ds, 'pending-emails'), 5);
      assert.equal(await runInTransaction(ds, (m) => advanceCheckpoint(m, 'pending-emails', 9007199254740)), true);
      assert.equal(await readCheckpoint(ds, 'pending-emails'), 9007199254740);
      assert.equal(await readCheckpoint(ds, 'other'), undefined);
    });

    testOnDatabase(kind, 'rolls back with the transaction that advanced it', async (db) => {
      const ds = await db.open();
      await assert.rejects(
        runInTransaction(ds, async (m) => {
          await advanceCheckpoint(m, 'p', 10);
          throw new Error('projection failed');
        }),
        /projection failed/,
      );
      assert.equal(await readCheckpoint(ds, 'p'), undefined);
    });
  });
}
