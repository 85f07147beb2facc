import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_EVENT_TYPES, decodeEvent, encodeEvent, EventTypes, eventNameOf } from '@idm/contracts';
import { anEvent } from './builders.js';
import { FIXED_NOW } from './given-when-then.js';

test('anEvent has a builder for every event type, each producing a decodable event at the fixed time', () => {
  for (const type of ALL_EVENT_TYPES) {
    const name = eventNameOf(type);
    const key = (name.charAt(0).toLowerCase() + name.slice(1)) as keyof typeof anEvent;
    const builder = anEvent[key] as (() => { type: string; time: string }) | undefined;
    assert.ok(builder, `missing builder anEvent.${key}`);
    const event = builder();
    assert.equal(event.type, type);
    assert.equal(event.time, FIXED_NOW.toISOString());
    assert.deepEqual(decodeEvent(encodeEvent(event as Parameters<typeof encodeEvent>[0])), event);
  }
});

test('anEvent overrides data, subject and stamp; causedBy derives a deterministic id', () => {
  const added = anEvent.userAdded({ userId: 'u-42', email: 'grace@example.com' });
  assert.equal(added.subject, 'u-42');
  assert.equal(added.data.email, 'grace@example.com');
  const queuedA = anEvent.emailQueued(
    { userId: 'u-42', causationEvent: { id: added.id, type: EventTypes.UserAdded } },
    { causedBy: added },
  );
  const queuedB = anEvent.emailQueued(
    { userId: 'u-42', causationEvent: { id: added.id, type: EventTypes.UserAdded } },
    { causedBy: added },
  );
  assert.equal(queuedA.id, queuedB.id);
  assert.equal(queuedA.causationid, added.id);
  const tick = anEvent.bulkTaskTick({ schedule: 'nightly' }, { time: '2025-06-01T00:00:00.000Z' });
  assert.equal(tick.subject, 'nightly');
  assert.equal(tick.time, '2025-06-01T00:00:00.000Z');
  assert.throws(() => anEvent.userAdded({ email: 'not-an-email' }), { name: 'DecodeError' });
});
