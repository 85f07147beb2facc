import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DataSource } from 'typeorm';
import { eventSubject, type IdmEvent } from '@idm/contracts';
import { connectNats, ensureEventStream, EventPublisher } from '@idm/messaging';
import {
  countOutboxRows,
  logOutboxRelayReports,
  openDatabase,
  Outbox,
  OutboxRelay,
  persistenceEntities,
  persistenceMigrations,
} from '@idm/persistence';
import {
  anEvent,
  LIMITED_NATS_USERS,
  startNatsServerWithLimitedUser,
  storedEvents,
  testDatabaseOf,
  waitFor,
  type NatsServerHandle,
  type SqliteTestDatabase,
} from '@idm/testing';

const STREAM = 'RELAY_PERM';
/** Longer than the test runs: a rest of this length ends only through `stop()`. */
const HOUR = 3_600_000;

// A misconfigured service identity: it may append user events, not password events; the relay
// must not ask the refusing server again after every commit, nor log a line per commit.
describe('OutboxRelay when its identity may not publish the events (real nats-server)', () => {
  let server: NatsServerHandle;
  let admin: NatsConnection;
  let limited: NatsConnection;
  let db: SqliteTestDatabase;
  let ds: DataSource;
  before(async () => {
    server = await startNatsServerWithLimitedUser(['idm.user.>']);
    admin = await connectNats({ url: server.url, name: 'spec-relay-admin', ...LIMITED_NATS_USERS.admin });
    await ensureEventStream(await jetstreamManager(admin), { name: STREAM });
    limited = await connectNats({ url: server.url, name: 'spec-relay-limited', ...LIMITED_NATS_USERS.limited });
    db = await testDatabaseOf('sqlite');
    ds = await openDatabase({ app: 'relay-perm', dataDir: db.dataDir, entities: persistenceEntities, migrations: persistenceMigrations });
  });
  after(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.dispose();
    await limited?.close();
    await admin?.close();
    await server?.dispose();
  });

  it('refused publishes under repeated commits: one attempt and one warning naming the subject, not one per commit; the rows stay and a permitted identity publishes each once, in order', async () => {
    const refusedPublisher = new EventPublisher(jetstream(limited));
    let attempts = 0;
    const counting = { publish: (event: IdmEvent) => (attempts++, refusedPublisher.publish(event)) };
    const warnings: string[] = [];
    const relay = new OutboxRelay<IdmEvent>(ds, counting, {
      intervalMs: HOUR,
      backoff: { initialMs: HOUR, maxMs: HOUR, factor: 2, jitter: 0 },
      onReport: logOutboxRelayReports({ warn: (line) => warnings.push(line), log: (line) => warnings.push(`log: ${line}`) }),
    });
    const outbox = new Outbox<IdmEvent>(ds);
    outbox.onCommitted(() => relay.wake());
    outbox.carry(relay);
    await relay.start();

    const events = Array.from({ length: 30 }, (_, n) =>
      anEvent.passwordChanged({ userId: `perm-${n % 3}`, changedAt: `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z` }),
    );
    await outbox.run(async ({ emit }) => emit([events[0]!]));
    await waitFor(() => relay.failedRoundsInARow === 1, { message: 'the first round refused' });
    for (const event of events.slice(1)) await outbox.run(async ({ emit }) => emit([event])); // each commit wakes the relay
    await relay.stop(); // awaits a round in progress: had a commit started one, its attempt would count below

    assert.equal(attempts, 1, 'one refused publish, not one per commit');
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0]!.includes(`Permissions Violation for Publish to "${eventSubject(events[0]!)}"`), warnings[0]);
    assert.doesNotMatch(warnings[0]!, /changedAt|"data"/, 'the cause, never the payload');
    assert.equal(await countOutboxRows(ds), 30);

    // With a permitted identity (the operator's fix, or another replica) every row gets out once.
    assert.equal(await new OutboxRelay<IdmEvent>(ds, new EventPublisher(jetstream(admin))).drainOnce(), 30);
    assert.equal(await countOutboxRows(ds), 0);
    const stored = await storedEvents(await jetstreamManager(admin), STREAM);
    assert.equal(new Set(stored.map((e) => e.id)).size, 30);
    for (const user of ['perm-0', 'perm-1', 'perm-2'])
      assert.deepEqual(
        stored.filter((e) => e.subject === user).map((e) => e.id),
        events.filter((e) => e.subject === user).map((e) => e.id),
      );
  });
});
