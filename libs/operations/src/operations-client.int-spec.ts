import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from '@nats-io/nats-core';
import { encodeEvent, eventSubject, type IdmEvent } from '@idm/contracts';
import {
  boundedDeadLetterRecord,
  connectNats,
  ensureDeadLetterStream,
  ensureEventStream,
  EventPublisher,
  writeDeadLetter,
} from '@idm/messaging';
import { anEvent, startNatsServer, waitFor, type NatsServerHandle } from '@idm/testing';
import { OperationsClient } from './operations-client.js';
import { keyFilters } from './event-filter.js';

// The shared queries against a real nats-server (Debian's 2.9 here; one filter per consumer).
describe('OperationsClient (real nats-server)', () => {
  const stream = `OPS_${randomBytes(3).toString('hex')}`;
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let ops: OperationsClient;
  let publish: (e: IdmEvent) => Promise<number>;

  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    nc = await connectNats({ url: nats.url, name: 'ops-spec' });
    ops = await OperationsClient.on(nc, stream, { maxScan: 5 });
    const jsm = ops.jsm;
    await ensureEventStream(jsm, { name: stream });
    await ensureDeadLetterStream(jsm, { name: stream });
    const publisher = new EventPublisher(ops.js);
    publish = async (e) => (await publisher.publish(e)).seq;
  });
  after(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it('reads one user’s events across every stream subject, grouped by correlation id, and nothing of others', async () => {
    const added = anEvent.userAdded({ userId: 'ada' }, { time: new Date() });
    await publish(added);
    await publish(anEvent.emailQueued({ userId: 'ada' }, { causedBy: added, time: new Date() }));
    await publish(anEvent.passwordChanged({ userId: 'ada' }, { time: new Date() }));
    await publish(anEvent.userAdded({ userId: 'bob', email: 'bob@example.com' }, { time: new Date() }));
    assert.equal(keyFilters('ada').length, 4);
    const groups = await ops.timeline('ada');
    assert.deepEqual(
      groups.map((g) => g.events.map((e) => e.event.type)),
      [['idm.password.changed'], ['idm.email.queued', 'idm.user.added']],
    );
    assert.deepEqual(await ops.timeline('nobody'), []);
    assert.deepEqual(
      (await ops.findUsers('bob@')).map((u) => u.userId),
      ['bob'],
    );
  });

  it('past maxScan events in the window, the chart counts the newest only and says it is partial', async () => {
    for (let i = 0; i < 6; i++) await publish(anEvent.userAdded({ userId: `many-${i}`, email: `m${i}@example.com` }, { time: new Date() }));
    const chart = await ops.eventsPerMinute(new Date(), 60);
    const total = Object.values(chart.byType)
      .flat()
      .reduce((a, b) => a + b, 0);
    assert.equal(total, 5);
    // 10 events in the window, 5 read: the chart cannot know the window's start, and says so.
    assert.equal(chart.partial, true);
  });

  it('a tail over several filters (a user) delivers new events from each, and stops', async () => {
    const tail = await ops.tail(keyFilters('carol'));
    const seen: string[] = [];
    const reading = (async () => {
      for await (const item of tail) {
        if ('event' in item) seen.push(item.event.type);
        if (seen.length === 2) break;
      }
    })();
    await publish(anEvent.userAdded({ userId: 'carol', email: 'carol@example.com' }, { time: new Date() }));
    await publish(anEvent.passwordChanged({ userId: 'carol' }, { time: new Date() }));
    await publish(anEvent.userAdded({ userId: 'dave', email: 'dave@example.com' }, { time: new Date() }));
    await reading;
    await tail.stop();
    assert.deepEqual(seen.sort(), ['idm.password.changed', 'idm.user.added']);
  });

  it('lists, retries (re-appends) and drops dead letters', async () => {
    const event = anEvent.userAdded({ userId: 'erin', email: 'erin@example.com' }, { time: new Date() });
    for (const consumer of ['notifier', 'password-sync']) {
      await writeDeadLetter(
        ops.js,
        boundedDeadLetterRecord(
          {
            consumer,
            reason: 'undecodable',
            code: 'X',
            error: 'e',
            stream,
            streamSequence: 1,
            subject: eventSubject(event),
            deliveryCount: 1,
            data: Buffer.from(encodeEvent(event)),
            headers: {},
            now: new Date(),
          },
          1 << 20,
        ),
      );
    }
    const letters = await ops.deadLetters();
    assert.equal(letters.length, 2);
    assert.equal(await ops.deadLetterCount(), 2);
    const before = (await ops.streamFacts()).lastSeq;
    assert.equal(await ops.retryDeadLetter(letters[0]!), before + 1);
    await ops.dropDeadLetter(letters[1]!);
    await waitFor(async () => (await ops.deadLetterCount()) === 0, { message: 'dead letters gone', timeoutMs: 5_000, intervalMs: 50 });
    await assert.rejects(ops.deadLetter(letters[0]!.seq), /no dead letter/);
  });
});
