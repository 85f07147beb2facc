import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { runInTransaction } from './index.js';
import { counterValue, increment } from './spec-support/counter.fixture.js';
import { testOnDatabase } from './spec-support/test-databases.js';

describe('SQLite transaction gate', () => {
  testOnDatabase('sqlite', 'concurrent transactions take turns: every read-modify-write counts', async (db) => {
    const ds = await db.open();
    await Promise.all(Array.from({ length: 20 }, () => runInTransaction(ds, (m) => increment(m, 'turns'))));
    assert.equal(await counterValue(ds.manager, 'turns'), 20);
  });

  testOnDatabase(
    'sqlite',
    "a read through the DataSource waits for the running transaction and sees its commit, never its work's",
    async (db) => {
      const ds = await db.open();
      let inside: () => void = () => undefined;
      let finish: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (inside = resolve));
      const running = runInTransaction(ds, async (m) => {
        await increment(m, 'seen');
        inside();
        await new Promise<void>((resolve) => (finish = resolve));
        await increment(m, 'seen');
      });
      await started;
      const read = counterValue(ds.manager, 'seen');
      finish();
      assert.equal(await read, 2, 'both increments, committed');
      await running;
    },
  );

  testOnDatabase(
    'sqlite',
    "a transaction nested through the work's manager is a savepoint: its rollback keeps the outer work",
    async (db) => {
      const ds = await db.open();
      await runInTransaction(ds, async (m) => {
        await increment(m, 'outer');
        await assert.rejects(
          m.transaction(async (nested) => {
            await increment(nested, 'inner');
            throw new Error('inner fails');
          }),
          /inner fails/,
        );
        await m.transaction((nested) => increment(nested, 'kept'));
      });
      assert.deepEqual(
        [await counterValue(ds.manager, 'outer'), await counterValue(ds.manager, 'inner'), await counterValue(ds.manager, 'kept')],
        [1, 0, 1],
      );
    },
  );

  testOnDatabase(
    'sqlite',
    'uses no AsyncLocalStorage: once used, it would run promise hooks on every promise of the process',
    async (db) => {
      const ds = await db.open();
      const run = AsyncLocalStorage.prototype.run;
      const enterWith = AsyncLocalStorage.prototype.enterWith;
      let used = 0;
      AsyncLocalStorage.prototype.run = function (this: AsyncLocalStorage<unknown>, ...args: Parameters<typeof run>) {
        used++;
        return run.apply(this, args);
      } as typeof run;
      AsyncLocalStorage.prototype.enterWith = function (this: AsyncLocalStorage<unknown>, store: unknown) {
        used++;
        enterWith.call(this, store);
      };
      try {
        await Promise.all([
          runInTransaction(ds, (m) => increment(m, 'plain')),
          ds.query('SELECT 1'),
          ds.transaction((m) => increment(m, 'plain')),
        ]);
      } finally {
        AsyncLocalStorage.prototype.run = run;
        AsyncLocalStorage.prototype.enterWith = enterWith;
      }
      assert.equal(used, 0);
      assert.equal(await counterValue(ds.manager, 'plain'), 2);
    },
  );
});
