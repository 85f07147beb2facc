import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEvent, EventTypes } from '@idm/contracts';
import { ManualClock } from '@idm/testing';
import type { Schedule } from '../schedules/schedule.js';
import { SchedulerService } from './scheduler.service.js';
import { TickLog, type StoredTick, type TickEvent } from './tick-log.port.js';
import { slotTickId } from './tick.decider.js';

/**
 * An in-memory TickLog with the stream's two guarantees (id dedupe, expected last sequence), to
 * check what the shell does with each answer. The JetStream adapter has its own integration spec.
 */
class MemoryTickLog extends TickLog {
  readonly events: TickEvent[] = [];
  readonly appends: Array<{ id: string; expectedLastSeq: number | undefined; result: string }> = [];
  /** Appends this event (as if by another replica) just before the next append is checked. */
  interleave: TickEvent | undefined;

  async lastTick(schedule: string): Promise<StoredTick | undefined> {
    const i = this.events.findLastIndex((e) => e.subject === schedule);
    return i < 0 ? undefined : { event: this.events[i]!, seq: i + 1 };
  }

  async append(event: TickEvent, expectedLastSeq: number | undefined): Promise<'appended' | 'already-fired'> {
    if (this.interleave) {
      this.events.push(this.interleave);
      this.interleave = undefined;
    }
    const last = await this.lastTick(event.subject);
    const result = this.events.some((e) => e.id === event.id) || (last?.seq ?? 0) !== (expectedLastSeq ?? 0) ? 'already-fired' : 'appended';
    if (result === 'appended') this.events.push(event);
    this.appends.push({ id: event.id, expectedLastSeq, result });
    return result;
  }
}

const emailRetry: Schedule = { name: 'email-retry', cron: '*/5 * * * *', timezone: 'UTC', task: 'RetryEmailNotifications', enabled: true };
const paused: Schedule = { name: 'paused', cron: '0 * * * *', timezone: 'UTC', task: 'Paused', enabled: false };

function tickFor(scheduledFor: string, catchUp = false): TickEvent {
  const data = { schedule: 'email-retry', task: 'RetryEmailNotifications', scheduledFor, firedAt: scheduledFor, catchUp };
  return createEvent(EventTypes.BulkTaskTick, 'email-retry', data, {
    source: '/idm/scheduler',
    time: scheduledFor,
    id: slotTickId('email-retry', scheduledFor),
  });
}

function setUp(now: string, ...existing: TickEvent[]) {
  const log = new MemoryTickLog();
  log.events.push(...existing);
  const clock = new ManualClock(now);
  const service = new SchedulerService([emailRetry, paused], { source: '/idm/scheduler', graceMs: 60_000 }, log, clock);
  return { log, clock, service };
}

describe('SchedulerService.check', () => {
  it('appends the slot tick with the slot id, expecting the last tick’s sequence', async () => {
    const { log, service } = setUp('2025-01-01T10:05:00.010Z', tickFor('2025-01-01T10:00:00.000Z'));
    const outcome = await service.check('email-retry');
    assert.equal(outcome.kind, 'appended');
    assert.deepEqual(log.appends, [{ id: slotTickId('email-retry', '2025-01-01T10:05:00.000Z'), expectedLastSeq: 1, result: 'appended' }]);
    assert.equal(log.events[1]!.source, '/idm/scheduler');
    assert.equal(log.events[1]!.time, '2025-01-01T10:05:00.010Z');
  });

  it('appends nothing when the slot is already in the log', async () => {
    const { log, service } = setUp('2025-01-01T10:05:30.000Z', tickFor('2025-01-01T10:05:00.000Z'));
    assert.deepEqual(await service.check('email-retry'), { kind: 'ignored', reason: 'already-fired' });
    assert.deepEqual(log.appends, []);
  });

  it('when another replica appends first, reads the log again and moves on without a second tick', async () => {
    const { log, service } = setUp('2025-01-01T10:05:00.010Z', tickFor('2025-01-01T10:00:00.000Z'));
    log.interleave = tickFor('2025-01-01T10:05:00.000Z');
    assert.deepEqual(await service.check('email-retry'), { kind: 'ignored', reason: 'already-fired' });
    assert.equal(log.events.length, 2);
    assert.deepEqual(
      log.appends.map((a) => a.result),
      ['already-fired'],
    );
  });

  it('propagates a log failure to the caller', async () => {
    const { log, service } = setUp('2025-01-01T10:05:00.010Z');
    log.lastTick = () => Promise.reject(new Error('stream unavailable'));
    await assert.rejects(service.check('email-retry'), /stream unavailable/);
  });
});

describe('SchedulerService.fire', () => {
  it('appends a tick for now with a fresh id and replies with it', async () => {
    const { log, service } = setUp('2025-01-01T10:02:10.000Z', tickFor('2025-01-01T10:00:00.000Z'));
    const reply = await service.fire('email-retry');
    assert.ok(reply.ok);
    assert.equal(log.events.length, 2);
    assert.equal(log.events[1]!.id, reply.eventId);
    assert.notEqual(reply.eventId, slotTickId('email-retry', '2025-01-01T10:02:10.000Z'));
    assert.deepEqual(log.events[1]!.data, {
      schedule: 'email-retry',
      task: 'RetryEmailNotifications',
      scheduledFor: '2025-01-01T10:02:10.000Z',
      firedAt: '2025-01-01T10:02:10.000Z',
      catchUp: false,
      missedSlots: 0,
    });
  });

  it('retries with the new last sequence when a slot tick lands first', async () => {
    const { log, service } = setUp('2025-01-01T10:05:00.100Z', tickFor('2025-01-01T10:00:00.000Z'));
    log.interleave = tickFor('2025-01-01T10:05:00.000Z');
    const reply = await service.fire('email-retry');
    assert.ok(reply.ok);
    assert.deepEqual(
      log.appends.map((a) => [a.expectedLastSeq, a.result]),
      [
        [1, 'already-fired'],
        [2, 'appended'],
      ],
    );
  });

  it('refuses an unknown or disabled schedule', async () => {
    const { log, service } = setUp('2025-01-01T10:02:10.000Z');
    assert.deepEqual(await service.fire('nope'), { ok: false, error: 'unknown schedule "nope"' });
    assert.deepEqual(await service.fire('paused'), { ok: false, error: 'schedule "paused" is disabled' });
    assert.deepEqual(log.events, []);
  });
});

describe('SchedulerService.list', () => {
  it('lists every schedule with its next run and last tick', async () => {
    const { service } = setUp('2025-01-01T10:02:10.000Z', tickFor('2025-01-01T10:00:00.000Z'));
    assert.deepEqual(await service.list(), [
      {
        name: 'email-retry',
        cron: '*/5 * * * *',
        timezone: 'UTC',
        task: 'RetryEmailNotifications',
        enabled: true,
        nextRun: '2025-01-01T10:05:00.000Z',
        lastTick: {
          id: slotTickId('email-retry', '2025-01-01T10:00:00.000Z'),
          scheduledFor: '2025-01-01T10:00:00.000Z',
          firedAt: '2025-01-01T10:00:00.000Z',
          catchUp: false,
        },
      },
      { name: 'paused', cron: '0 * * * *', timezone: 'UTC', task: 'Paused', enabled: false, nextRun: null, lastTick: null },
    ]);
  });
});
