import 'reflect-metadata';
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DiscardPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { EventTypes, createEvent, type IdmEvent, type IdmEventOf } from '@idm/contracts';
import { startNatsServer, waitFor, type NatsServerHandle } from '@idm/testing';
import { connectNats } from './nats-connection.js';
import { EventPublisher } from './event-publisher.js';
import { JetStreamTransport, type JetStreamTransportOptions } from './jetstream-transport.js';
import { ConsumeEvents } from './consume-events.decorator.js';
import { EventContext } from './event-context.js';
import { PermanentError } from './errors.js';
import { deadLetterStreamName } from './stream-provisioning.js';
import { serverFeatures } from './server-features.js';
import type { DeadLetterRecord } from './dead-letter.js';

/** What the test handler does with each delivery; swapped per test. */
let behaviour: (event: IdmEvent, ctx: EventContext) => Promise<void> = async () => undefined;

@Controller()
class TestHandlers {
  @ConsumeEvents([EventTypes.UserAdded, EventTypes.UserModified])
  async onUser(event: IdmEventOf<'idm.user.added'> | IdmEventOf<'idm.user.modified'>, ctx: EventContext): Promise<void> {
    await behaviour(event, ctx);
  }

  // A type outside `idm.user.`: the consumer's types then share only `idm.`, so on nats-server 2.9
  // it has no filter and is delivered every type in the stream, as the notifier's is. The specs
  // below publish no tick; this handler only widens the consumer.
  @ConsumeEvents([EventTypes.BulkTaskTick])
  async onTick(event: IdmEventOf<'idm.bulk-task.tick'>, ctx: EventContext): Promise<void> {
    await behaviour(event, ctx);
  }
}

@Module({ controllers: [TestHandlers] })
class TestModule {}

const t0 = new Date('2026-01-01T00:00:00Z');
function userAdded(userId: string, n = 0): IdmEventOf<'idm.user.added'> {
  return createEvent(
    EventTypes.UserAdded,
    userId,
    { userId, email: `${userId}@example.com`, displayName: `User ${n}` },
    { source: '/test', time: new Date(t0.getTime() + n) },
  );
}

describe('JetStreamTransport against a real nats-server', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: EventPublisher;
  let app: INestMicroservice | undefined;
  let streamNo = 0;
  let stream = '';

  before(async () => {
    server = await startNatsServer();
    nc = await connectNats({ url: server.url, name: 'spec' });
    jsm = await jetstreamManager(nc);
    publisher = new EventPublisher(jetstream(nc));
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const name of [stream, deadLetterStreamName(stream)]) await jsm.streams.delete(name).catch(() => false);
    behaviour = async () => undefined;
  });

  async function startApp(options: Partial<JetStreamTransportOptions> = {}, newStream = true): Promise<INestMicroservice> {
    if (newStream) stream = `S${++streamNo}`;
    const strategy = new JetStreamTransport({
      connection: { url: server.url, name: 'spec-app' },
      stream: { name: stream },
      consumer: 'spec',
      maxDeliver: 4,
      ackWaitMs: 5_000,
      backoff: { initialMs: 20, maxMs: 200, factor: 2, jitter: 0 },
      ...options,
    });
    const created = await NestFactory.createMicroservice(TestModule, { strategy, logger: process.env.SPEC_LOG ? undefined : false });
    await created.listen();
    app = created;
    return created;
  }

  async function consumerIdle(): Promise<void> {
    await waitFor(
      async () => {
        const ci = await jsm.consumers.info(stream, 'spec');
        return ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      { timeoutMs: 15_000, message: 'consumer did not settle everything' },
    );
  }

  async function deadLetters(): Promise<DeadLetterRecord[]> {
    const name = deadLetterStreamName(stream);
    const info = await jsm.streams.info(name);
    const out: DeadLetterRecord[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(name, { seq });
      if (m) out.push(m.json<DeadLetterRecord>());
    }
    return out;
  }

  it('hands each decoded event to its handler once and acks it; types without a handler are acked', async () => {
    const seen: string[] = [];
    behaviour = async (event) => {
      seen.push(event.id);
    };
    await startApp();
    const events = ['u1', 'u2', 'u3'].map((u, i) => userAdded(u, i));
    await publisher.publishAll(events);
    await publisher.publish(
      createEvent(
        EventTypes.EmailQueued,
        'u1',
        { userId: 'u1', emailType: 'NEW_USER', causationEvent: { id: events[0]!.id, type: EventTypes.UserAdded } },
        { source: '/test', time: t0 },
      ),
    );
    await consumerIdle();
    assert.deepEqual(seen.sort(), events.map((e) => e.id).sort());
  });

  it('acks an event of a type without a handler from its subject alone, undecoded, where the server delivers it (2.9); 2.10+ filters it out', async () => {
    let calls = 0;
    behaviour = async () => {
      calls++;
    };
    const settled: Array<{ type: string | undefined; action: string }> = [];
    await startApp({ onSettled: (d) => settled.push({ type: d.type, action: d.settlement.action }) });
    // Not a CloudEvent: decoded, it would be dead-lettered as undecodable.
    await jetstream(nc).publish('idm.email.queued.u1', '{"not": "a cloud event"');
    await publisher.publish(userAdded('u2'));
    await consumerIdle();
    assert.equal(calls, 1);
    assert.equal((await jsm.streams.info(deadLetterStreamName(stream))).state.messages, 0, 'nothing dead-lettered');
    // 2.10+ takes the consumer's types as `filter_subjects` and never delivers the other type.
    const delivered = serverFeatures(nc).multipleConsumerFilters ? [] : [{ type: EventTypes.EmailQueued, action: 'ack' }];
    assert.deepEqual(settled, [...delivered, { type: EventTypes.UserAdded, action: 'ack' }]);
  });

  it('acks a burst of deliveries it has no handler for in a few socket writes, not one write each (2.9 delivers them)', async () => {
    await startApp();
    const burst = 500;
    const types = Array.from({ length: burst }, (_, i) =>
      createEvent(
        EventTypes.EmailQueued,
        `u${i}`,
        { userId: `u${i}`, emailType: 'NEW_USER', causationEvent: { id: `e${i}`, type: EventTypes.UserAdded } },
        { source: '/test', time: t0 },
      ),
    );
    // Every socket write of this process that carries an ack: the app runs in this process.
    let ackWrites = 0;
    const write = Socket.prototype.write;
    Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      if ((typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('latin1')).includes('$JS.ACK.')) ackWrites++;
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof Socket.prototype.write;
    try {
      await publisher.publishAll(types);
      await consumerIdle();
    } finally {
      Socket.prototype.write = write;
    }
    if (serverFeatures(nc).multipleConsumerFilters) {
      // 2.10+ filters the type out: nothing was delivered, nothing to ack.
      assert.equal(ackWrites, 0);
      return;
    }
    // Deliveries arrive in pulls of many; the acks of each turn share one write.
    assert.ok(ackWrites > 0 && ackWrites <= burst / 10, `${burst} skipped deliveries were acked in ${ackWrites} writes`);
  });

  it('redelivers after a thrown error, with the delivery count, until the handler succeeds', async () => {
    const deliveries: number[] = [];
    behaviour = async (_e, ctx) => {
      deliveries.push(ctx.deliveryCount);
      if (ctx.deliveryCount < 3) throw new Error('database is down');
    };
    await startApp();
    await publisher.publish(userAdded('u1'));
    await consumerIdle();
    assert.deepEqual(deliveries, [1, 2, 3]);
    assert.equal((await jsm.streams.info(deadLetterStreamName(stream))).state.messages, 0);
  });

  it('dead-letters a poison message once, never calls the handler, and does not redeliver it', async () => {
    let calls = 0;
    behaviour = async () => {
      calls++;
    };
    await startApp();
    const ack = await jetstream(nc).publish('idm.user.added.u1', '{"not": "a cloud event"');
    await consumerIdle();
    const dlq = await deadLetters();
    assert.equal(dlq.length, 1);
    assert.equal(dlq[0]!.reason, 'undecodable');
    assert.equal(dlq[0]!.code, 'IDM_EVENT_INVALID:not-json');
    assert.equal(dlq[0]!.streamSequence, ack.seq);
    assert.equal(dlq[0]!.subject, 'idm.user.added.u1');
    assert.equal(dlq[0]!.payload, '{"not": "a cloud event"');
    assert.equal(calls, 0);
    // A later event still flows, and the poison one did not come back.
    await publisher.publish(userAdded('u2'));
    await consumerIdle();
    assert.equal(calls, 1);
    assert.equal((await deadLetters()).length, 1);
  });

  it('dead-letters a poison message near the max payload with a truncated, bounded record that still finds the original', async () => {
    await startApp();
    const poison = Buffer.from('"'.repeat(1_000_000)); // not JSON; doubles in size when escaped into the record
    const ack = await jetstream(nc).publish('idm.user.added.big', poison);
    await consumerIdle();
    const [record] = await deadLetters();
    assert.ok(record, 'the record was stored, not dropped');
    assert.equal(record.payloadTruncated, true);
    assert.equal(record.payloadSize, poison.length);
    assert.equal(record.streamSequence, ack.seq);
    assert.equal(record.stream, stream);
    const original = await jsm.streams.getMessage(record.stream, { seq: record.streamSequence });
    assert.equal(createHash('sha256').update(original!.data).digest('hex'), record.payloadSha256);
  });

  it('when the dead letter cannot be stored, the message is not terminated: it is retried with backoff until the record is stored', async () => {
    const settled: string[] = [];
    await startApp({ onSettled: (d) => settled.push(d.settlement.action) });
    // The DLQ refuses every record for now.
    const dlqName = deadLetterStreamName(stream);
    const config = (await jsm.streams.info(dlqName)).config;
    await jsm.streams.update(dlqName, { ...config, max_msgs: 0, max_msgs_per_subject: 0, max_bytes: 1, discard: DiscardPolicy.New });
    const poison = await jetstream(nc).publish('idm.user.added.u9', 'poison');
    await waitFor(() => settled.filter((a) => a === 'nak').length >= 2, {
      timeoutMs: 15_000,
      message: 'the failed dead letter was not retried',
    });
    assert.equal(settled.includes('dead-letter'), false, 'never reported as dead-lettered while not stored');
    const consumer = await jsm.consumers.info(stream, 'spec');
    assert.ok(consumer.ack_floor.stream_seq < poison.seq, 'not terminated: the ack floor has not passed it');
    await jsm.streams.update(dlqName, { ...config });
    await consumerIdle();
    const [record] = await deadLetters();
    assert.equal(record?.payload, 'poison');
    assert.equal(settled.at(-1), 'dead-letter');
  });

  it('dead-letters an event whose NATS subject disagrees with its envelope', async () => {
    await startApp();
    const e = userAdded('u1');
    await jetstream(nc).publish('idm.user.added.someone-else', JSON.stringify(e));
    await consumerIdle();
    const [record] = await deadLetters();
    assert.equal(record?.code, 'IDM_EVENT_INVALID:envelope-invalid');
  });

  it('handles a plain CloudEvent from another publisher (no dataversion) as version 1; an unknown version is dead-lettered', async () => {
    const seen: IdmEvent[] = [];
    behaviour = async (event) => {
      seen.push(event);
    };
    await startApp();
    const plain = {
      specversion: '1.0',
      id: 'hr-1',
      source: 'https://hr.example.com',
      type: 'idm.user.added',
      subject: 'u9',
      time: '2026-01-02T00:00:00Z',
      data: { userId: 'u9', email: 'u9@example.com' },
    };
    await jetstream(nc).publish('idm.user.added.u9', JSON.stringify(plain), { msgID: plain.id });
    await jetstream(nc).publish('idm.user.added.u9', JSON.stringify({ ...plain, id: 'hr-2', dataversion: '7' }), { msgID: 'hr-2' });
    await consumerIdle();
    assert.deepEqual(
      seen.map((e) => [e.id, e.dataversion]),
      [['hr-1', '1']],
    );
    const dlq = await deadLetters();
    assert.deepEqual(
      dlq.map((r) => r.code),
      ['IDM_EVENT_INVALID:unsupported-version'],
    );
  });

  it('dead-letters a PermanentError at once', async () => {
    const deliveries: number[] = [];
    behaviour = async (_e, ctx) => {
      deliveries.push(ctx.deliveryCount);
      throw new PermanentError('this user can never be processed', { code: 'SPEC_PERMANENT' });
    };
    await startApp();
    await publisher.publish(userAdded('u1'));
    await consumerIdle();
    assert.deepEqual(deliveries, [1]);
    const [record] = await deadLetters();
    assert.equal(record?.reason, 'permanent-failure');
    assert.equal(record?.code, 'SPEC_PERMANENT');
  });

  it('dead-letters after the last allowed delivery fails', async () => {
    let calls = 0;
    behaviour = async () => {
      calls++;
      throw new Error('still down');
    };
    await startApp({ maxDeliver: 3 });
    await publisher.publish(userAdded('u1'));
    await consumerIdle();
    assert.equal(calls, 3);
    const [record] = await deadLetters();
    assert.equal(record?.reason, 'max-deliveries');
    assert.match(record?.error ?? '', /still down/);
  });

  it('never handles two events of one user at the same time, but handles different users in parallel', async () => {
    const inFlight = new Map<string, number>();
    let maxPerUser = 0;
    let maxOverall = 0;
    let overall = 0;
    const order = new Map<string, number[]>();
    behaviour = async (event) => {
      const n = (inFlight.get(event.subject) ?? 0) + 1;
      inFlight.set(event.subject, n);
      overall++;
      maxPerUser = Math.max(maxPerUser, n);
      maxOverall = Math.max(maxOverall, overall);
      await new Promise((r) => setTimeout(r, 5));
      order.set(event.subject, [
        ...(order.get(event.subject) ?? []),
        Number((event.data as { displayName: string }).displayName.split(' ')[1]),
      ]);
      inFlight.set(event.subject, n - 1);
      overall--;
    };
    await startApp({ concurrency: 8 });
    const events: IdmEvent[] = [];
    for (let i = 0; i < 20; i++) for (const u of ['u1', 'u2', 'u3', 'u4']) events.push(userAdded(u, i));
    await publisher.publishAll(events);
    await consumerIdle();
    assert.equal(maxPerUser, 1);
    assert.ok(maxOverall > 1, `expected users in parallel, saw at most ${maxOverall} at once`);
    for (const u of ['u1', 'u2', 'u3', 'u4']) assert.deepEqual(order.get(u), [...Array(20).keys()], `events of ${u} in stream order`);
  });

  it('a delivery held past the ack deadline, running or queued behind its key, is kept with working() and never redelivered', async () => {
    const ackWaitMs = 3_000;
    const handled: Array<{ n: number; delivery: number }> = [];
    behaviour = async (event, ctx) => {
      const n = Number((event.data as { displayName: string }).displayName.split(' ')[1]);
      handled.push({ n, delivery: ctx.deliveryCount });
      // Long work: the first event's handler outlives two ack deadlines; the second waits behind it.
      if (n === 0) await new Promise((r) => setTimeout(r, 2.5 * ackWaitMs));
    };
    await startApp({ ackWaitMs });
    await publisher.publishAll([userAdded('slow', 0), userAdded('slow', 1)]);
    await consumerIdle();
    assert.deepEqual(handled, [
      { n: 0, delivery: 1 },
      { n: 1, delivery: 1 },
    ]);
    assert.equal((await jsm.consumers.info(stream, 'spec')).num_redelivered, 0);
  });

  it('a consumer of its own window: its setting overrides the transport-wide concurrency; none is acked before its handler returned', async () => {
    let inFlight = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    behaviour = async () => {
      inFlight++;
      await released;
    };
    await startApp({ concurrency: 2, consumers: { spec: { concurrency: 12 } } });
    await publisher.publishAll(Array.from({ length: 12 }, (_, i) => userAdded(`w${i}`, i)));
    // Twelve users at once: impossible with the transport-wide 2.
    await waitFor(() => inFlight === 12, { message: `12 handlers at once (saw ${inFlight})` });
    const held = await jsm.consumers.info(stream, 'spec');
    assert.equal(held.num_ack_pending, 12, 'every delivery unacked while its handler runs');
    release();
    await consumerIdle();
  });

  it('drains on shutdown: in-flight handlers finish and ack, and nothing is lost across a restart', async () => {
    const finished = new Set<string>();
    let started = 0;
    behaviour = async (event) => {
      started++;
      await new Promise((r) => setTimeout(r, 10));
      finished.add(event.id);
    };
    const first = await startApp({ concurrency: 4 });
    const events = Array.from({ length: 60 }, (_, i) => userAdded(`u${i % 6}`, i));
    await publisher.publishAll(events);
    await waitFor(() => finished.size >= 10, { timeoutMs: 10_000, message: 'handlers did not start' });
    await first.close();
    app = undefined;
    assert.equal(started, finished.size, 'every handler that started finished before close returned');
    const beforeRestart = finished.size;
    assert.ok(beforeRestart < events.length, 'the test must stop the app mid-stream');
    await startApp({ concurrency: 4, ackWaitMs: 1_000 }, false);
    await waitFor(() => finished.size === events.length, { timeoutMs: 20_000, message: 'not every event was handled after the restart' });
    await consumerIdle();
  });
});

describe('the event log across a nats-server kill -9', () => {
  it('loses no acknowledged event', async () => {
    const server = await startNatsServer();
    const nc = await connectNats({ url: server.url, name: 'spec-kill' });
    try {
      const jsm = await jetstreamManager(nc);
      const { ensureEventStream } = await import('./stream-provisioning.js');
      await ensureEventStream(jsm, { name: 'KILL' });
      const publisher = new EventPublisher(jetstream(nc), { attempts: 20, ackTimeoutMs: 1_000 });
      const acked = new Set<string>();
      for (let i = 0; i < 300; i++) {
        if (i === 150) {
          await server.kill();
          void server.restart();
        }
        const e = userAdded(`u${i % 10}`, i);
        try {
          await publisher.publish(e);
          acked.add(e.id);
        } catch {
          // Not acknowledged: the caller would retry; it is allowed to be missing.
        }
      }
      await waitFor(
        async () =>
          !nc.isClosed() &&
          (await jsm.streams.info('KILL').then(
            () => true,
            () => false,
          )),
        { timeoutMs: 20_000, message: 'server did not come back' },
      );
      const info = await jsm.streams.info('KILL');
      const stored = new Set<string>();
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('KILL', { seq });
        if (m) stored.add(m.json<{ id: string }>().id);
      }
      const missing = [...acked].filter((id) => !stored.has(id));
      assert.deepEqual(missing, []);
      assert.ok(acked.size >= 150, `expected most publishes to be acknowledged, got ${acked.size}`);
    } finally {
      await nc.close();
      await server.dispose();
    }
  });
});
