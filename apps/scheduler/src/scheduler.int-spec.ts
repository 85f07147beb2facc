import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { CommandSubjects, EventTypes, scheduleFireReplySchema, scheduleListReplySchema, subjectFor } from '@idm/contracts';
import { EventReader, type MessagingConfig } from '@idm/messaging';
import { specMessagingConfig, startNatsServer, waitFor, type NatsServerHandle } from '@idm/testing';
import type { Schedule } from './schedules/schedule.js';
import { SchedulerModule } from './scheduler.module.js';
import { SCHEDULER_SOURCE } from './scheduler.tokens.js';
import type { TickEvent } from './ticks/tick-log.port.js';

// A server per test: the event stream's subjects are fixed, so two streams cannot share one server.
let nats: NatsServerHandle;
beforeEach(async () => {
  nats = await startNatsServer({ jetstream: true });
});
afterEach(async () => {
  await nats.dispose();
});

const everySecond: Schedule = {
  name: 'every-second',
  cron: '* * * * * *',
  timezone: 'UTC',
  task: 'RetryEmailNotifications',
  enabled: true,
};

function messagingConfig(stream: string): MessagingConfig {
  return specMessagingConfig({ url: nats.url, stream, name: 'idm-scheduler-test', ackWaitMs: 30_000 });
}

/** One scheduler replica with its own NATS connection, as a separate process would have. */
async function startReplica(stream: string, schedules: readonly Schedule[]): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(
    SchedulerModule.forRoot({ schedules, options: { source: SCHEDULER_SOURCE, graceMs: 60_000 }, messaging: messagingConfig(stream) }),
    { logger: false, abortOnError: false },
  );
  await app.init();
  return app;
}

/** Every tick of a schedule in the stream, in stream order. */
async function ticksIn(stream: string, schedule: string): Promise<TickEvent[]> {
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    const reader = new EventReader(jsm, stream);
    const lastSeq = (await jsm.streams.info(stream)).state.last_seq;
    const subject = subjectFor(EventTypes.BulkTaskTick, schedule);
    const out: TickEvent[] = [];
    for (let seq = 1; seq <= lastSeq; seq++) {
      const stored = await reader.at(seq);
      if (stored && stored.event.type === EventTypes.BulkTaskTick && subjectFor(stored.event.type, stored.event.subject) === subject)
        out.push(stored.event);
    }
    return out;
  } finally {
    await nc.close();
  }
}

function assertOneTickPerSlot(ticks: readonly TickEvent[]): void {
  const slots = ticks.map((t) => t.data.scheduledFor);
  assert.equal(new Set(slots).size, slots.length, `a slot ticked twice: ${slots.join(', ')}`);
  assert.deepEqual([...slots].sort(), slots, 'ticks are appended in slot order');
}

describe('scheduler on a real nats-server', () => {
  it('two replicas and a restart inside a slot give exactly one tick per slot', async () => {
    const stream = `SCHED_${randomUUID().slice(0, 8)}`;
    const a = await startReplica(stream, [everySecond]);
    const b = await startReplica(stream, [everySecond]);
    try {
      await waitFor(async () => (await ticksIn(stream, everySecond.name)).length >= 3, { message: '3 ticks', timeoutMs: 20_000 });
      // Restart replica A: its start-up check lands inside a slot B (or A itself) already ticked.
      await a.close();
      const a2 = await startReplica(stream, [everySecond]);
      try {
        const seen = (await ticksIn(stream, everySecond.name)).length;
        await waitFor(async () => (await ticksIn(stream, everySecond.name)).length >= seen + 3, {
          message: '3 more ticks',
          timeoutMs: 20_000,
        });
      } finally {
        await a2.close();
      }
    } finally {
      await b.close();
    }
    const ticks = await ticksIn(stream, everySecond.name);
    assertOneTickPerSlot(ticks);
    assert.ok(ticks.every((t) => t.id !== undefined && t.data.task === 'RetryEmailNotifications'));
  });

  it('downtime gives one catch-up tick for the latest missed slot, not a burst', async () => {
    const stream = `SCHED_${randomUUID().slice(0, 8)}`;
    const first = await startReplica(stream, [everySecond]);
    try {
      await waitFor(async () => (await ticksIn(stream, everySecond.name)).length >= 2, { message: '2 ticks', timeoutMs: 20_000 });
    } finally {
      await first.close();
    }
    const before = await ticksIn(stream, everySecond.name);
    const lastBefore = before.at(-1)!;
    await sleep(3_500); // the downtime: at least three every-second slots pass with no scheduler
    const restartedAt = Math.floor(Date.now() / 1000) * 1000;
    const second = await startReplica(stream, [everySecond]);
    try {
      await waitFor(async () => (await ticksIn(stream, everySecond.name)).length > before.length, {
        message: 'a tick after the downtime',
        timeoutMs: 20_000,
      });
    } finally {
      await second.close();
    }
    const ticks = await ticksIn(stream, everySecond.name);
    assertOneTickPerSlot(ticks);
    const afterDowntime = ticks.slice(before.length);
    assert.equal(afterDowntime[0]!.data.catchUp, true, 'the first tick after downtime is the catch-up tick');
    // No tick stands for a slot inside the downtime: the catch-up is the latest missed slot.
    for (const t of afterDowntime) {
      assert.ok(
        Date.parse(t.data.scheduledFor) >= restartedAt,
        `slot ${t.data.scheduledFor} inside the downtime (${lastBefore.data.scheduledFor} … ${new Date(restartedAt).toISOString()}) was ticked`,
      );
    }
  });

  it('answers list and fire over core-NATS request/reply', async () => {
    const stream = `SCHED_${randomUUID().slice(0, 8)}`;
    const yearly: Schedule = { name: 'new-year', cron: '0 0 1 1 *', timezone: 'Europe/Berlin', task: 'Yearly', enabled: true };
    const app = await startReplica(stream, [yearly]);
    const nc = await connect({ servers: nats.url });
    try {
      const fired = (await nc.request(CommandSubjects.SchedulerFire, JSON.stringify({ schedule: 'new-year' }), { timeout: 5_000 })).json<{
        ok: boolean;
        eventId: string;
      }>();
      assert.equal(fired.ok, true);
      assert.deepEqual(scheduleFireReplySchema.safeParse(fired).error?.issues, undefined, 'the fire reply matches its contract');
      const ticks = await ticksIn(stream, 'new-year');
      assert.equal(ticks.length, 1);
      assert.equal(ticks[0]!.id, fired.eventId);
      assert.equal(ticks[0]!.data.catchUp, false);

      const listed = (await nc.request(CommandSubjects.SchedulerList, '', { timeout: 5_000 })).json<{
        ok: boolean;
        schedules: Array<Record<string, unknown>>;
      }>();
      assert.equal(listed.ok, true);
      assert.deepEqual(scheduleListReplySchema.safeParse(listed).error?.issues, undefined, 'the list reply matches its contract');
      assert.equal(listed.schedules.length, 1);
      const [entry] = listed.schedules;
      assert.deepEqual(
        { name: entry!.name, cron: entry!.cron, timezone: entry!.timezone, task: entry!.task, enabled: entry!.enabled },
        { name: 'new-year', cron: '0 0 1 1 *', timezone: 'Europe/Berlin', task: 'Yearly', enabled: true },
      );
      assert.match(String(entry!.nextRun), /^\d{4}-12-31T23:00:00\.000Z$/);
      assert.equal((entry!.lastTick as { id: string }).id, fired.eventId);

      const unknown = (
        await nc.request(CommandSubjects.SchedulerFire, JSON.stringify({ schedule: 'nope' }), { timeout: 5_000 })
      ).json<unknown>();
      assert.deepEqual(unknown, { ok: false, error: 'unknown schedule "nope"' });
      const malformed = (await nc.request(CommandSubjects.SchedulerFire, 'not json', { timeout: 5_000 })).json<unknown>();
      assert.deepEqual(malformed, { ok: false, error: 'the request is not JSON' });
    } finally {
      await nc.close();
      await app.close();
    }
  });
});
