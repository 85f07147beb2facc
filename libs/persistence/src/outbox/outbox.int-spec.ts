import { after, before, describe, test, type TestContext } from 'node:test';
import type { DataSource } from 'typeorm';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, waitFor, type NatsServerHandle } from '@idm/testing';
import { Inbox, InboxEntry, Outbox, OutboxRelay, countOutboxRows, type BatchWork, type OutboxEvent } from '../index.js';
import { counterValue, increment } from '../spec-support/counter.fixture.js';
import { databaseKinds, testDatabase } from '../spec-support/test-databases.js';

interface SpecEvent extends OutboxEvent {
  readonly data: { readonly n: number };
}

const event = (id: string, subject: string, n = 0): SpecEvent => ({ id, type: 'spec.counted', subject, data: { n } });

let server: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let streams = 0;

before(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});

after(async () => {
  await nc?.close();
  await server?.dispose();
});

/** A stream of its own per test, and a publisher that sends each event with `Nats-Msg-Id` = its id. */
async function freshStream(): Promise<{
  prefix: string;
  publisher: { publish(e: SpecEvent): Promise<unknown> };
  stored(): Promise<SpecEvent[]>;
}> {
  const prefix = `outbox${++streams}`;
  await jsm.streams.add({ name: prefix.toUpperCase(), subjects: [`${prefix}.>`] });
  return {
    prefix,
    publisher: { publish: (e) => js.publish(`${prefix}.${e.subject}`, JSON.stringify(e), { msgID: e.id }) },
    async stored() {
      const out: SpecEvent[] = [];
      const info = await jsm.streams.info(prefix.toUpperCase());
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const msg = await jsm.streams.getMessage(prefix.toUpperCase(), { seq });
        if (msg) out.push(msg.json<SpecEvent>());
      }
      return out;
    },
  };
}

/**
 * Batch work of the batched specs: records each call's inputs (users), fails the whole call when
 * one of them is `bad`, else counts each user and emits one event per user; returns the names' lengths.
 */
function countUsers(calls: string[][], idPrefix: string): BatchWork<SpecEvent, string, number> {
  return async ({ manager, emit }, users) => {
    calls.push([...users]);
    if (users.includes('bad')) throw new Error('bad input');
    for (const user of users) await increment(manager, user);
    emit(users.map((user, i) => event(`${idPrefix}-${user}`, user, i)));
    return users.map((user) => user.length);
  };
}

for (const kind of databaseKinds) {
  describe(`Outbox on ${kind}`, () => {
    test('state, inbox row and outbox rows commit together; a duplicate runs no work and writes no rows', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        const outbox = new Outbox<SpecEvent>(ds);
        let runs = 0;
        const work = async ({ manager, emit }: { manager: Parameters<typeof increment>[0]; emit: (e: SpecEvent[]) => void }) => {
          runs++;
          emit([event('out-1', 'u1', 1), event('out-2', 'u1', 2)]);
          return increment(manager, 'c');
        };
        const first = await outbox.once({ consumer: 'spec', eventId: 'in-1', streamSeq: 5, lockKey: 'u1' }, work);
        const second = await outbox.once({ consumer: 'spec', eventId: 'in-1', streamSeq: 5, lockKey: 'u1' }, work);
        assert.deepEqual(first, { duplicate: false, result: 1 });
        assert.deepEqual(second, { duplicate: true });
        assert.equal(runs, 1);
        assert.equal(await counterValue(ds.manager, 'c'), 1);
        assert.equal(await Inbox.seen(ds, 'spec', 'in-1'), true);
        assert.equal(await countOutboxRows(ds), 2);
      } finally {
        await db.dispose();
      }
    });

    test('a unit that throws leaves no state, no inbox row and no outbox row', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        const outbox = new Outbox<SpecEvent>(ds);
        await assert.rejects(
          outbox.once({ consumer: 'spec', eventId: 'in-x' }, async ({ manager, emit }) => {
            await increment(manager, 'c');
            emit([event('out-x', 'u1')]);
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await counterValue(ds.manager, 'c'), 0);
        assert.equal(await Inbox.seen(ds, 'spec', 'in-x'), false);
        assert.equal(await countOutboxRows(ds), 0);
      } finally {
        await db.dispose();
      }
    });

    test('group commit: a failing unit fails alone, the others commit with their rows, each resolved after the commit', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        const outbox = new Outbox<SpecEvent>(ds, { groupCommit: { maxBatch: 64, lingerMs: 5 } });
        let transactions = 0;
        outbox.onCommitted(() => transactions++);
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            outbox.once({ consumer: 'spec', eventId: `in-${i}`, lockKey: `u${i}` }, async ({ manager, emit }) => {
              await increment(manager, `row-${i}`);
              emit([event(`out-${i}`, `u${i}`, i)]);
              if (i === 7) throw new Error('bad unit');
              // Resolved only after the commit: the row is visible from outside the transaction now.
              return i;
            }),
          ),
        );
        assert.equal(outcomes.filter((o) => o.status === 'rejected').length, 1);
        assert.match(String((outcomes[7] as PromiseRejectedResult).reason), /bad unit/);
        for (let i = 0; i < 20; i++) assert.equal(await counterValue(ds.manager, `row-${i}`), i === 7 ? 0 : 1);
        assert.equal(await ds.getRepository(InboxEntry).count(), 19);
        assert.equal(await countOutboxRows(ds), 19);
        // The batch failed once, then each unit ran alone: 19 commits wrote rows, not 20 and not 1.
        assert.equal(transactions, 19);
      } finally {
        await db.dispose();
      }
    });

    test('group commit with parallel lanes: every unit commits once with its rows, concurrent copies still run once', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        const outbox = new Outbox<SpecEvent>(ds, { groupCommit: { maxBatch: 8, lingerMs: 1, parallel: 4 } });
        const outcomes = await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            outbox.once({ consumer: 'spec', eventId: `in-${i % 40}`, lockKey: `u${i % 40}` }, async ({ manager, emit }) => {
              emit([event(`out-${i % 40}`, `u${i % 40}`, i)]);
              return increment(manager, `row-${i % 40}`);
            }),
          ),
        );
        assert.equal(outcomes.filter((o) => !o.duplicate).length, 40);
        for (let i = 0; i < 40; i++) assert.equal(await counterValue(ds.manager, `row-${i}`), 1);
        assert.equal(await countOutboxRows(ds), 40);
      } finally {
        await db.dispose();
      }
    });

    test('group commit: copies of one event in one batch run the work once', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        const outbox = new Outbox<SpecEvent>(ds, { groupCommit: { maxBatch: 64, lingerMs: 5 } });
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, () =>
            outbox.once({ consumer: 'spec', eventId: 'same' }, async ({ manager, emit }) => {
              emit([event('out-same', 'u1')]);
              return increment(manager, 'same');
            }),
          ),
        );
        assert.equal(outcomes.filter((o) => !o.duplicate).length, 1);
        assert.equal(await counterValue(ds.manager, 'same'), 1);
        assert.equal(await countOutboxRows(ds), 1);
      } finally {
        await db.dispose();
      }
    });

    /** A group-committed outbox on a fresh database, and the calls its batch work records. */
    async function withBatching(t: TestContext, body: (ds: DataSource, outbox: Outbox<SpecEvent>, calls: string[][]) => Promise<void>) {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const ds = await db.open();
        await body(ds, new Outbox<SpecEvent>(ds, { groupCommit: { maxBatch: 64, lingerMs: 5 } }), []);
      } finally {
        await db.dispose();
      }
    }

    test('batched units: fresh inputs decided together in lock order, duplicates skipped, a bad input fails alone', (t) =>
      withBatching(t, async (ds, outbox, calls) => {
        const submit = outbox.batched(countUsers(calls, 'out'));
        await submit({ consumer: 'spec', eventId: 'in-seen' }, 'seen');
        calls.length = 0;
        const outcomes = await Promise.allSettled(
          ['c', 'bad', 'seen', 'aa', 'bbb'].map((user) => submit({ consumer: 'spec', eventId: `in-${user}`, lockKey: user }, user)),
        );
        assert.deepEqual(
          outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'rejected')),
          [
            { duplicate: false, result: 1 },
            'rejected',
            { duplicate: true },
            { duplicate: false, result: 2 },
            { duplicate: false, result: 3 },
          ],
        );
        assert.deepEqual(calls[0], ['aa', 'bad', 'bbb', 'c'], 'one call for the batch, fresh inputs only, in lock order');
        assert.deepEqual(calls.slice(1).sort(), [['aa'], ['bad'], ['bbb'], ['c']], 'then each input alone');
        for (const user of ['aa', 'bbb', 'c', 'seen']) assert.equal(await counterValue(ds.manager, user), 1, user);
        assert.equal(await counterValue(ds.manager, 'bad'), 0);
        assert.equal(await Inbox.seen(ds, 'spec', 'in-bad'), false);
        assert.equal(await countOutboxRows(ds), 4);
      }));

    test('batched runs without an inbox key: decided together in lock order, no inbox rows, a bad input fails alone', (t) =>
      withBatching(t, async (ds, outbox, calls) => {
        const submit = outbox.batchedRun(countUsers(calls, 'run'));
        const outcomes = await Promise.allSettled(['c', 'bad', 'aa', 'bbb'].map((user) => submit(user, user)));
        assert.deepEqual(
          outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'rejected')),
          [1, 'rejected', 2, 3],
        );
        assert.deepEqual(calls[0], ['aa', 'bad', 'bbb', 'c'], 'one call for the batch, in lock order');
        assert.deepEqual(calls.slice(1).sort(), [['aa'], ['bad'], ['bbb'], ['c']], 'then each input alone');
        for (const user of ['aa', 'bbb', 'c']) assert.equal(await counterValue(ds.manager, user), 1, user);
        assert.equal(await counterValue(ds.manager, 'bad'), 0, 'the bad input wrote nothing');
        assert.equal(await ds.getRepository(InboxEntry).count(), 0, 'no inbox rows');
        assert.equal(await countOutboxRows(ds), 3, 'one outbox row per good input');

        calls.length = 0;
        assert.deepEqual(await Promise.all(['dd', 'dd'].map((user) => submit(user))), [2, 2], 'the same input twice runs twice (no inbox)');
        assert.equal(await counterValue(ds.manager, 'dd'), 2);
      }));

    test('a crash between commit and publish: the relay publishes the rows at restart, once, in order per key', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const stream = await freshStream();
        const before = await db.open();
        const outbox = new Outbox<SpecEvent>(before, { groupCommit: {} });
        await Promise.all(
          ['a', 'b', 'c'].map((user) =>
            outbox.once({ consumer: 'spec', eventId: `in-${user}`, lockKey: user }, async ({ emit }) => {
              emit([event(`${user}-1`, user, 1), event(`${user}-2`, user, 2), event(`${user}-3`, user, 3)]);
            }),
          ),
        );
        // One event did get out before the crash; the relay's copy of it must be dropped by the stream.
        await stream.publisher.publish(event('b-1', 'b', 1));
        await before.destroy(); // the "crash": no relay ever ran on this DataSource

        const ds = await db.open();
        assert.equal(await countOutboxRows(ds), 9);
        const relay = new OutboxRelay<SpecEvent>(ds, stream.publisher);
        await relay.start();
        await relay.stop();
        assert.equal(await countOutboxRows(ds), 0);
        const stored = await stream.stored();
        assert.equal(stored.length, 9);
        for (const user of ['a', 'b', 'c'])
          assert.deepEqual(
            stored.filter((e) => e.subject === user).map((e) => e.data.n),
            [1, 2, 3],
          );
        // A redelivery of an input after the publish is an inbox hit: nothing new to publish.
        const again = await new Outbox<SpecEvent>(ds).once({ consumer: 'spec', eventId: 'in-a' }, async ({ emit }) => {
          emit([event('a-9', 'a', 9)]);
        });
        assert.deepEqual(again, { duplicate: true });
        assert.equal(await countOutboxRows(ds), 0);
      } finally {
        await db.dispose();
      }
    });

    test('a publisher that takes stored events gets each row as written: id, type, key and the JSON byte for byte', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const stream = await freshStream();
        const ds = await db.open();
        const emitted = [event('s-1', 'u1', 1), event('s-2', 'u2', 2), { ...event('s-3', 'u1', 3), type: 'spec.other' }];
        await new Outbox<SpecEvent>(ds).run(async ({ emit }) => emit(emitted));
        const received: Array<{ id: string; type: string; subject: string; payload: string }> = [];
        const relay = new OutboxRelay<SpecEvent>(ds, {
          publish: () => Promise.reject(new Error('publish must not be used when publishStored is there')),
          publishStored: async (stored) => {
            received.push({ ...stored });
            await js.publish(`${stream.prefix}.${stored.subject}`, stored.payload, { msgID: stored.id });
          },
        });
        await relay.start();
        await relay.stop();
        assert.deepEqual(
          received,
          emitted.map((e) => ({ id: e.id, type: e.type, subject: e.subject, payload: JSON.stringify(e) })),
        );
        assert.deepEqual(await stream.stored(), emitted);
        assert.equal(await countOutboxRows(ds), 0);
      } finally {
        await db.dispose();
      }
    });

    test('the running relay publishes after each commit without being asked by the handler', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const stream = await freshStream();
        const ds = await db.open();
        const relay = new OutboxRelay<SpecEvent>(ds, stream.publisher, { intervalMs: 60_000 });
        const outbox = new Outbox<SpecEvent>(ds, { groupCommit: {} });
        outbox.onCommitted(() => relay.wake());
        await relay.start();
        try {
          await Promise.all(
            Array.from({ length: 50 }, (_, i) =>
              outbox.once({ consumer: 'spec', eventId: `in-${i}`, lockKey: `u${i}` }, async ({ emit }) =>
                emit([event(`out-${i}`, `u${i}`, i)]),
              ),
            ),
          );
          // The interval is a minute: only the wake-up after commit can have published these.
          await waitFor(async () => (await stream.stored()).length === 50, { message: 'the relay publishing after the commit' });
        } finally {
          await relay.stop();
        }
        assert.equal((await stream.stored()).length, 50);
        assert.equal(await countOutboxRows(ds), 0);
      } finally {
        await db.dispose();
      }
    });

    test('carried deletes: the next outbox transaction deletes the acknowledged rows, a rolled-back or failed one keeps them, none is published twice', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const stream = await freshStream();
        const ds = await db.open();
        const sent: string[] = [];
        const publisher = { publish: (e: SpecEvent) => (sent.push(e.id), stream.publisher.publish(e)) };
        const relay = new OutboxRelay<SpecEvent>(ds, publisher, { intervalMs: 60_000 });
        const outbox = new Outbox<SpecEvent>(ds, { groupCommit: {} });
        outbox.onCommitted(() => relay.wake());
        outbox.carry(relay);
        await relay.start();
        const emitOne = (n: number) =>
          outbox.once({ consumer: 'spec', eventId: `in-${n}`, lockKey: 'u1' }, async ({ emit }) => emit([event(`out-${n}`, 'u1', n)]));
        try {
          await emitOne(1);
          await waitFor(() => relay.awaitingDelete === 1, { message: 'out-1 published, its row waiting' });
          assert.equal(await countOutboxRows(ds), 1);
          // This transaction deletes out-1's row; the round it wakes publishes out-2 only.
          await emitOne(2);
          await waitFor(() => sent.length === 2 && relay.awaitingDelete === 1, { message: 'out-2 published' });
          assert.equal(await countOutboxRows(ds), 1);
          // A transaction that rolls back takes its delete with it: the row waits for the next one.
          await assert.rejects(
            outbox.run(async () => {
              throw new Error('boom');
            }),
            /boom/,
          );
          assert.equal(await countOutboxRows(ds), 1);
          assert.equal(relay.awaitingDelete, 1);
          // So does a delete that fails itself (here: its connection is closed): the next transaction deletes the row.
          const closed = await db.open();
          await closed.destroy();
          await assert.rejects(relay.ride(closed.manager));
          await outbox.run(async () => undefined);
          assert.equal(await countOutboxRows(ds), 0);
          assert.equal(relay.awaitingDelete, 0);
          await emitOne(3);
          await waitFor(() => relay.awaitingDelete === 1, { message: 'out-3 published' });
        } finally {
          await relay.stop(); // deletes what no transaction came to delete
        }
        assert.equal(await countOutboxRows(ds), 0);
        assert.deepEqual(sent, ['out-1', 'out-2', 'out-3']);
        assert.deepEqual(
          (await stream.stored()).map((e) => e.id),
          ['out-1', 'out-2', 'out-3'],
        );
      } finally {
        await db.dispose();
      }
    });
  });
}
