import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InboxEntry } from './inbox-entry.entity.js';
import { Inbox, processOnce } from './index.js';
import { counterValue, increment } from './spec-support/counter.fixture.js';
import { databaseKinds, testDatabase } from './spec-support/test-databases.js';

for (const kind of databaseKinds) {
  describe(`processOnce on ${kind}`, () => {
    test('applies the state change once when the same event is processed twice in a row', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        const first = await processOnce(ds, 'notifier', 'evt-1', 7, (m) => increment(m, 'c'));
        const second = await processOnce(ds, 'notifier', 'evt-1', 7, (m) => increment(m, 'c'));
        assert.deepEqual(first, { duplicate: false, result: 1 });
        assert.deepEqual(second, { duplicate: true });
        assert.equal(await counterValue(ds.manager, 'c'), 1);
        assert.equal(await Inbox.seen(ds, 'notifier', 'evt-1'), true);
        assert.equal(await Inbox.seen(ds, 'other-consumer', 'evt-1'), false);
      } finally {
        await db.dispose();
      }
    });

    test('applies the state change once when 20 copies of an event race', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, () => processOnce(ds, 'notifier', 'evt-race', 3, (m) => increment(m, 'race'))),
        );
        assert.equal(outcomes.filter((o) => !o.duplicate).length, 1);
        assert.equal(outcomes.filter((o) => o.duplicate).length, 19);
        assert.equal(await counterValue(ds.manager, 'race'), 1);
      } finally {
        await db.dispose();
      }
    });

    test('keeps 50 concurrent different events isolated from each other', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        // Read-modify-write on one row: lost updates would show as a total below 50 on SQLite.
        // On Postgres READ COMMITTED lets them race, so each event gets its own row there and
        // the shared row is only used where transactions are serialised.
        const shared = kind === 'sqlite';
        const outcomes = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            processOnce(ds, 'notifier', `evt-${i}`, i + 1, (m) => increment(m, shared ? 'sum' : `row-${i}`)),
          ),
        );
        assert.ok(outcomes.every((o) => !o.duplicate));
        if (shared) assert.equal(await counterValue(ds.manager, 'sum'), 50);
        else for (let i = 0; i < 50; i++) assert.equal(await counterValue(ds.manager, `row-${i}`), 1);
        assert.equal(await ds.getRepository(InboxEntry).count(), 50);
      } finally {
        await db.dispose();
      }
    });

    test('a throwing work leaves neither the state change nor the inbox row, so a retry applies it', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        await assert.rejects(
          processOnce(ds, 'notifier', 'evt-fail', 9, async (m) => {
            await increment(m, 'f');
            throw new Error('smtp said 451');
          }),
          /smtp said 451/,
        );
        assert.equal(await counterValue(ds.manager, 'f'), 0);
        assert.equal(await Inbox.seen(ds, 'notifier', 'evt-fail'), false);
        const retry = await processOnce(ds, 'notifier', 'evt-fail', 9, (m) => increment(m, 'f'));
        assert.deepEqual(retry, { duplicate: false, result: 1 });
      } finally {
        await db.dispose();
      }
    });

    test('seen never reports a row whose transaction is still running and then rolls back', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        let started: () => void = () => undefined;
        const workStarted = new Promise<void>((r) => (started = r));
        let fail: () => void = () => undefined;
        const failNow = new Promise<void>((r) => (fail = r));
        const processing = processOnce(ds, 'notifier', 'evt-slow', 1, async (m) => {
          await increment(m, 'slow');
          started();
          await failNow;
          throw new Error('directory down');
        });
        await workStarted;
        const seen = Inbox.seen(ds, 'notifier', 'evt-slow');
        fail();
        await assert.rejects(processing, /directory down/);
        assert.equal(await seen, false);
        assert.equal(await counterValue(ds.manager, 'slow'), 0);
      } finally {
        await db.dispose();
      }
    });

    test('stores the stream sequence as a number and the processing time as a Date', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        await processOnce(ds, 'notifier', 'evt-seq', 123456789012, async () => undefined);
        await processOnce(ds, 'notifier', 'evt-noseq', undefined, async () => undefined);
        const repo = ds.getRepository(InboxEntry);
        const withSeq = await repo.findOneByOrFail({ consumer: 'notifier', eventId: 'evt-seq' });
        const withoutSeq = await repo.findOneByOrFail({ consumer: 'notifier', eventId: 'evt-noseq' });
        assert.equal(withSeq.streamSeq, 123456789012);
        assert.equal(withoutSeq.streamSeq, null);
        assert.ok(withSeq.processedAt instanceof Date && !Number.isNaN(withSeq.processedAt.getTime()));
      } finally {
        await db.dispose();
      }
    });
  });
}
