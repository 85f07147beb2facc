import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DataSource } from 'typeorm';
import { EventTypes, createEvent, type IdmEventOf } from '@idm/contracts';
import { EventContext, EventPublisher, JetStreamTransport, ConsumeEvents, connectNats } from '@idm/messaging';
import { openDatabase, Outbox, persistenceEntities, persistenceMigrations } from '@idm/persistence';
import { startNatsServer, testDatabases, waitFor, type NatsServerHandle, type TestDatabase } from '@idm/testing';
import { UserCounter, UserCounterTable1732400000000 } from './user-counter.fixture.js';

// The handler below is the shape every app handler has: inbox + state change (+ outbox rows) in one transaction.
// It "crashes" after the commit on the first delivery of each event, i.e. between the durable
// effect and the ack — the window at-least-once delivery cannot close. The inbox must.
let dataSource: DataSource;
let crashAfterCommit = new Set<string>();
const handled: string[] = [];

@Controller()
class CountingHandler {
  @ConsumeEvents([EventTypes.UserAdded, EventTypes.UserModified])
  async onUser(event: IdmEventOf<'idm.user.added'> | IdmEventOf<'idm.user.modified'>, ctx: EventContext): Promise<void> {
    handled.push(`${event.id}#${ctx.deliveryCount}`);
    await new Outbox(dataSource).once(
      { consumer: ctx.consumer, eventId: event.id, streamSeq: ctx.streamSequence },
      async ({ manager: m }) => {
        const row = await m.findOneBy(UserCounter, { userId: event.subject });
        await m.save(UserCounter, { userId: event.subject, count: (row?.count ?? 0) + 1 });
      },
    );
    if (crashAfterCommit.delete(event.id)) throw new Error('simulated crash after commit, before ack');
  }
}

@Module({ controllers: [CountingHandler] })
class CountingModule {}

const userAdded = (userId: string, n: number) =>
  createEvent(
    EventTypes.UserAdded,
    userId,
    { userId, email: `${userId}@example.com` },
    { source: '/spec', time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)) },
  );

describe('exactly-once state change under redelivery (real nats-server)', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let dbs: TestDatabase[];
  before(async () => {
    server = await startNatsServer();
    nc = await connectNats({ url: server.url, name: 'spec' });
    dbs = await testDatabases();
  });
  after(async () => {
    await nc.close();
    await server.dispose();
    for (const db of dbs) if (db.unavailable === undefined) await db.dispose();
  });

  for (const kind of ['sqlite', 'postgres'] as const) {
    it(`on ${kind}: a redelivered event changes state once`, async (t) => {
      const db = dbs.find((d) => d.kind === kind)!;
      if (db.unavailable !== undefined) return t.skip(db.unavailable);
      dataSource = await openDatabase({
        app: `exactly-once-${kind}`,
        dataDir: db.kind === 'sqlite' ? db.dataDir : '.',
        ...(db.kind === 'postgres' ? { databaseUrl: db.databaseUrl, schema: db.schema } : {}),
        entities: [...persistenceEntities, UserCounter],
        migrations: [...persistenceMigrations, UserCounterTable1732400000000],
      });
      const stream = `EXACTLY_${kind.toUpperCase()}`;
      let app: INestMicroservice | undefined;
      const jsm = await jetstreamManager(nc);
      try {
        app = await NestFactory.createMicroservice(CountingModule, {
          strategy: new JetStreamTransport({
            connection: { url: server.url, name: 'spec-app' },
            stream: { name: stream },
            consumer: 'counting',
            backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 },
          }),
          logger: false,
        });
        await app.listen();
        const publisher = new EventPublisher(jetstream(nc));
        const events = Array.from({ length: 30 }, (_, i) => userAdded(`u${i % 5}`, i));
        crashAfterCommit = new Set(events.filter((_, i) => i % 3 === 0).map((e) => e.id));
        handled.length = 0;
        await publisher.publishAll(events);
        // The same events appended again (a producer retry) are dropped by the log's dedupe.
        const again = await publisher.publishAll(events.slice(0, 5));
        assert.ok(again.every((r) => r.duplicate));
        await waitFor(
          async () => {
            const ci = await jsm.consumers.info(stream, 'counting');
            return ci.num_pending === 0 && ci.num_ack_pending === 0 && crashAfterCommit.size === 0;
          },
          { timeoutMs: 20_000, message: 'not every event was settled' },
        );
        const counters = await dataSource.getRepository(UserCounter).find({ order: { userId: 'ASC' } });
        assert.deepEqual(
          counters.map((c) => [c.userId, c.count]),
          ['u0', 'u1', 'u2', 'u3', 'u4'].map((u) => [u, 6]),
        );
        assert.equal(handled.filter((h) => h.endsWith('#2')).length, 10, 'every crashed event was delivered a second time');
      } finally {
        await app?.close();
        await dataSource.destroy();
        await jsm.streams.delete(stream).catch(() => false);
        await jsm.streams.delete(`${stream}_DLQ`).catch(() => false);
      }
    });
  }
});
