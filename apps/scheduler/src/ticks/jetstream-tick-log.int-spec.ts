import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { createEvent, EventTypes } from '@idm/contracts';
import { connectNats, ensureEventStream, EventPublisher, EventReader } from '@idm/messaging';
import { startNatsServer, type NatsServerHandle } from '@idm/testing';
import { JetStreamTickLog } from './jetstream-tick-log.js';
import type { TickEvent } from './tick-log.port.js';
import { slotTickId } from './tick.decider.js';

function tick(schedule: string, scheduledFor: string): TickEvent {
  const data = { schedule, task: 'T', scheduledFor, firedAt: scheduledFor, catchUp: false };
  return createEvent(EventTypes.BulkTaskTick, schedule, data, {
    source: '/idm/scheduler',
    time: scheduledFor,
    id: slotTickId(schedule, scheduledFor),
  });
}

describe('JetStreamTickLog on a real nats-server', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let log: JetStreamTickLog;
  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    nc = await connectNats({ url: nats.url, name: 'tick-log-spec' });
    const jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, { name: 'TICKS' });
    log = new JetStreamTickLog(new EventReader(jsm, 'TICKS'), new EventPublisher(jetstream(nc)));
  });
  after(async () => {
    await nc.drain();
    await nats.dispose();
  });

  it('has no last tick for a schedule that never ticked', async () => {
    assert.equal(await log.lastTick('fresh'), undefined);
  });

  it('appends the first tick only while the subject is still empty', async () => {
    const first = tick('a', '2025-01-01T10:00:00.000Z');
    assert.equal(await log.append(first, undefined), 'appended');
    assert.equal(await log.append(tick('a', '2025-01-01T10:05:00.000Z'), undefined), 'already-fired');
    const last = await log.lastTick('a');
    assert.deepEqual(last?.event, first);
  });

  it('answers already-fired for the same slot id, even with the current sequence', async () => {
    const last = (await log.lastTick('a'))!;
    assert.equal(await log.append(tick('a', '2025-01-01T10:00:00.000Z'), last.seq), 'already-fired');
  });

  it('answers already-fired for a stale expected sequence, and appends with the current one', async () => {
    const before = (await log.lastTick('a'))!;
    const next = tick('a', '2025-01-01T10:05:00.000Z');
    assert.equal(await log.append(next, before.seq - 1), 'already-fired');
    assert.equal(await log.append(next, before.seq), 'appended');
    const after = (await log.lastTick('a'))!;
    assert.equal(after.event.id, next.id);
    assert.ok(after.seq > before.seq);
  });

  it('keeps each schedule on its own subject', async () => {
    assert.equal(await log.append(tick('b', '2025-01-01T10:05:00.000Z'), undefined), 'appended');
    assert.equal((await log.lastTick('a'))!.event.data.schedule, 'a');
    assert.equal((await log.lastTick('b'))!.event.data.schedule, 'b');
  });
});
