import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cronCalendar } from '../schedules/cron-calendar.js';
import type { Schedule } from '../schedules/schedule.js';
import { decideManualFire, decideTick, MISSED_SLOTS_COUNT_LIMIT, slotTickId, type LastTick, type TickDecision } from './tick.decider.js';

const everyFive: Schedule = { name: 'email-retry', cron: '*/5 * * * *', timezone: 'UTC', task: 'RetryEmailNotifications', enabled: true };
const graceMs = 60_000;

/** Given a schedule and its last tick, when the scheduler checks at `now`, then … */
function given(schedule: Schedule, lastTick?: LastTick) {
  return {
    whenCheckedAt(now: string): TickDecision {
      return decideTick(schedule, lastTick, new Date(now), { calendar: cronCalendar(schedule.cron, schedule.timezone), graceMs });
    },
  };
}

function fired(schedule: Schedule, scheduledFor: string, firedAt: string, catchUp: boolean, missedSlots = 0): TickDecision {
  return {
    kind: 'fire',
    id: slotTickId(schedule.name, scheduledFor),
    data: { schedule: schedule.name, task: schedule.task, scheduledFor, firedAt, catchUp, missedSlots },
  };
}

describe('decideTick', () => {
  describe('given a schedule that never ticked', () => {
    it('when its timer fires exactly on a slot, then that slot ticks, not as catch-up', () => {
      assert.deepEqual(
        given(everyFive).whenCheckedAt('2025-01-01T10:05:00.000Z'),
        fired(everyFive, '2025-01-01T10:05:00.000Z', '2025-01-01T10:05:00.000Z', false),
      );
    });
    it('when checked a little after a slot (within grace), then that slot ticks', () => {
      assert.deepEqual(
        given(everyFive).whenCheckedAt('2025-01-01T10:05:07.250Z'),
        fired(everyFive, '2025-01-01T10:05:00.000Z', '2025-01-01T10:05:07.250Z', false),
      );
    });
    it('when started long after a slot, then nothing happens: there is no history to catch up on', () => {
      assert.deepEqual(given(everyFive).whenCheckedAt('2025-01-01T10:08:00.000Z'), { kind: 'ignore', reason: 'not-due' });
    });
  });

  describe('given the last tick was the previous slot', () => {
    const last = { scheduledFor: '2025-01-01T10:00:00.000Z' };
    it('when the next slot comes, then it ticks on time', () => {
      assert.deepEqual(
        given(everyFive, last).whenCheckedAt('2025-01-01T10:05:00.003Z'),
        fired(everyFive, '2025-01-01T10:05:00.000Z', '2025-01-01T10:05:00.003Z', false),
      );
    });
    it('when checked before the next slot, then nothing happens', () => {
      assert.deepEqual(given(everyFive, last).whenCheckedAt('2025-01-01T10:04:59.999Z'), { kind: 'ignore', reason: 'already-fired' });
    });
    it('when the next slot is reached only after the grace window (short downtime), then it ticks as catch-up', () => {
      assert.deepEqual(
        given(everyFive, last).whenCheckedAt('2025-01-01T10:07:00.000Z'),
        fired(everyFive, '2025-01-01T10:05:00.000Z', '2025-01-01T10:07:00.000Z', true),
      );
    });
  });

  describe('given the last tick is the current slot (a replica or an earlier run got there first)', () => {
    it('when checked again inside that slot, then nothing happens', () => {
      assert.deepEqual(given(everyFive, { scheduledFor: '2025-01-01T10:05:00.000Z' }).whenCheckedAt('2025-01-01T10:05:30.000Z'), {
        kind: 'ignore',
        reason: 'already-fired',
      });
    });
  });

  describe('given three slots were missed during downtime', () => {
    it('when the scheduler is back, then ONE catch-up tick stands for them, at the latest missed slot', () => {
      const decision = given(everyFive, { scheduledFor: '2025-01-01T10:00:00.000Z' }).whenCheckedAt('2025-01-01T10:17:12.000Z');
      assert.deepEqual(decision, fired(everyFive, '2025-01-01T10:15:00.000Z', '2025-01-01T10:17:12.000Z', true, 2));
    });
    it('when the back-up check lands exactly on a slot, then that slot is the catch-up tick', () => {
      const decision = given(everyFive, { scheduledFor: '2025-01-01T10:00:00.000Z' }).whenCheckedAt('2025-01-01T10:20:00.000Z');
      assert.deepEqual(decision, fired(everyFive, '2025-01-01T10:20:00.000Z', '2025-01-01T10:20:00.000Z', true, 3));
    });
  });

  describe('given the last tick was an operator fire between slots', () => {
    const last = { scheduledFor: '2025-01-01T10:02:10.000Z' };
    it('when checked before the next slot, then the earlier slot counts as covered', () => {
      assert.deepEqual(given(everyFive, last).whenCheckedAt('2025-01-01T10:03:00.000Z'), { kind: 'ignore', reason: 'already-fired' });
    });
    it('when the next slot comes, then it ticks on time', () => {
      assert.deepEqual(
        given(everyFive, last).whenCheckedAt('2025-01-01T10:05:00.000Z'),
        fired(everyFive, '2025-01-01T10:05:00.000Z', '2025-01-01T10:05:00.000Z', false),
      );
    });
  });

  describe('given a disabled schedule', () => {
    it('when its slot comes, then nothing happens', () => {
      assert.deepEqual(given({ ...everyFive, enabled: false }).whenCheckedAt('2025-01-01T10:05:00.000Z'), {
        kind: 'ignore',
        reason: 'disabled',
      });
    });
  });

  describe('given a schedule in a time zone', () => {
    const berlinNight: Schedule = { name: 'nightly', cron: '30 2 * * *', timezone: 'Europe/Berlin', task: 'Nightly', enabled: true };
    it('when 02:30 does not exist (spring forward, 2025-03-30), then the slot is the first valid time after the gap, 03:00 CEST', () => {
      const decision = given(berlinNight, { scheduledFor: '2025-03-29T01:30:00.000Z' }).whenCheckedAt('2025-03-30T01:00:01.000Z');
      assert.deepEqual(decision, fired(berlinNight, '2025-03-30T01:00:00.000Z', '2025-03-30T01:00:01.000Z', false));
    });
    it('when the wall clock reads 02:30 in winter, then the slot is 01:30 UTC', () => {
      const decision = given(berlinNight, { scheduledFor: '2025-01-09T01:30:00.000Z' }).whenCheckedAt('2025-01-10T01:30:00.000Z');
      assert.deepEqual(decision, fired(berlinNight, '2025-01-10T01:30:00.000Z', '2025-01-10T01:30:00.000Z', false));
    });
    const newYorkMorning: Schedule = { name: 'morning', cron: '0 9 * * *', timezone: 'America/New_York', task: 'Morning', enabled: true };
    it('when it is 09:00 UTC but 04:00 in New York, then nothing happens', () => {
      assert.deepEqual(given(newYorkMorning, { scheduledFor: '2025-01-09T14:00:00.000Z' }).whenCheckedAt('2025-01-10T09:00:00.000Z'), {
        kind: 'ignore',
        reason: 'already-fired',
      });
    });
    it('when it is 09:00 in New York (14:00 UTC), then it ticks', () => {
      const decision = given(newYorkMorning, { scheduledFor: '2025-01-09T14:00:00.000Z' }).whenCheckedAt('2025-01-10T14:00:00.000Z');
      assert.deepEqual(decision, fired(newYorkMorning, '2025-01-10T14:00:00.000Z', '2025-01-10T14:00:00.000Z', false));
    });
  });

  describe('given a 6-field (seconds) schedule', () => {
    const everySecond: Schedule = { name: 'fast', cron: '* * * * * *', timezone: 'UTC', task: 'Fast', enabled: true };
    it('when three seconds were missed, then one catch-up tick for the latest second', () => {
      const decision = given(everySecond, { scheduledFor: '2025-01-01T10:00:00.000Z' }).whenCheckedAt('2025-01-01T10:00:03.400Z');
      assert.deepEqual(decision, fired(everySecond, '2025-01-01T10:00:03.000Z', '2025-01-01T10:00:03.400Z', true, 2));
    });
    it('when a day was missed, then the catch-up tick counts the missed slots up to the limit, not all 86,399', () => {
      const decision = given(everySecond, { scheduledFor: '2025-01-01T10:00:00.000Z' }).whenCheckedAt('2025-01-02T10:00:00.000Z');
      assert.deepEqual(
        decision,
        fired(everySecond, '2025-01-02T10:00:00.000Z', '2025-01-02T10:00:00.000Z', true, MISSED_SLOTS_COUNT_LIMIT),
      );
    });
  });
});

describe('slotTickId', () => {
  it('is the same for the same schedule and slot, and differs across slots and schedules', () => {
    assert.equal(slotTickId('a', '2025-01-01T10:05:00.000Z'), slotTickId('a', '2025-01-01T10:05:00.000Z'));
    assert.notEqual(slotTickId('a', '2025-01-01T10:05:00.000Z'), slotTickId('a', '2025-01-01T10:10:00.000Z'));
    assert.notEqual(slotTickId('a', '2025-01-01T10:05:00.000Z'), slotTickId('b', '2025-01-01T10:05:00.000Z'));
  });
});

describe('decideManualFire', () => {
  it('given an enabled schedule, when an operator fires it, then a tick for now with the fresh id', () => {
    assert.deepEqual(decideManualFire(everyFive, new Date('2025-01-01T10:02:10.000Z'), 'fresh-id'), {
      kind: 'fire',
      id: 'fresh-id',
      data: {
        schedule: 'email-retry',
        task: 'RetryEmailNotifications',
        scheduledFor: '2025-01-01T10:02:10.000Z',
        firedAt: '2025-01-01T10:02:10.000Z',
        catchUp: false,
        missedSlots: 0,
      },
    });
  });
  it('given a disabled schedule, when an operator fires it, then nothing happens', () => {
    assert.deepEqual(decideManualFire({ ...everyFive, enabled: false }, new Date('2025-01-01T10:02:10.000Z'), 'fresh-id'), {
      kind: 'ignore',
      reason: 'disabled',
    });
  });
});
