import { errorMessage } from '@idm/config';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { createEvent, EventTypes, newEventId } from '@idm/contracts';
import { Cron } from 'croner';
import { Clock } from '@idm/config';
import { cronCalendar, type SlotCalendar } from '../schedules/cron-calendar.js';
import type { Schedule } from '../schedules/schedule.js';
import { SCHEDULER_OPTIONS, SCHEDULES } from '../scheduler.tokens.js';
import { TickLog, type StoredTick, type TickEvent } from './tick-log.port.js';
import { decideManualFire, decideTick, type FireTick, type TickDecision, type TickIgnoreReason } from './tick.decider.js';

/** What one check of a schedule did. */
export type CheckOutcome =
  { readonly kind: 'appended'; readonly event: TickEvent } | { readonly kind: 'ignored'; readonly reason: TickIgnoreReason };

/** Reply to an operator's "fire now". */
export type FireReply = { readonly ok: true; readonly eventId: string } | { readonly ok: false; readonly error: string };

/** Tuning of the scheduler shell. */
export interface SchedulerOptions {
  /** CloudEvents `source` of ticks. */
  readonly source: string;
  /** How late a slot may be reached and still tick as on time (see the decider). */
  readonly graceMs: number;
}

/** One line of the operator's schedule list. */
export interface ScheduleStatus {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly task: string;
  readonly enabled: boolean;
  /** Next slot (ISO), or null when disabled or the expression has no further slot. */
  readonly nextRun: string | null;
  readonly lastTick: { readonly id: string; readonly scheduledFor: string; readonly firedAt: string; readonly catchUp: boolean } | null;
}

/** Optimistic-concurrency losses in a row before a check gives up until the next firing. */
const MAX_ATTEMPTS = 3;

/**
 * The thin shell around {@link decideTick}: a croner timer per enabled schedule, and one check of
 * every schedule at start (that is where downtime turns into a single catch-up tick).
 *
 * Checks of one schedule run one after another in this process; across replicas the stream
 * arbitrates (deterministic id + expected last subject sequence), so no lock is needed.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private readonly calendars = new Map<string, SlotCalendar>();
  private readonly timers: Cron[] = [];
  /** Per schedule, the tail of its chain of checks, so they never overlap and stop() can drain. */
  private readonly tails = new Map<string, Promise<unknown>>();
  private stopped = false;

  constructor(
    @Inject(SCHEDULES) private readonly schedules: Schedule[],
    @Inject(SCHEDULER_OPTIONS) private readonly options: SchedulerOptions,
    private readonly tickLog: TickLog,
    private readonly clock: Clock,
  ) {
    for (const s of schedules) this.calendars.set(s.name, cronCalendar(s.cron, s.timezone));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  /** Before the connection drains (`onApplicationShutdown` in MessagingModule), so checks in flight can finish. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /**
   * Starts the timers, then checks every schedule once. Timers first: a slot passing during the
   * start-up check is then not lost, and the two checks are serialised anyway.
   */
  async start(): Promise<void> {
    this.stopped = false;
    for (const s of this.schedules.filter((x) => x.enabled)) {
      const timer = new Cron(s.cron, { timezone: s.timezone, mode: '5-or-6-parts' }, () => {
        // A failed check is not fatal: the next firing (or the next start) decides again from the stream.
        this.check(s.name).catch((err: unknown) => this.logger.error(`tick check of ${s.name} failed: ${errorMessage(err)}`));
      });
      this.timers.push(timer);
    }
    const results = await Promise.allSettled(this.schedules.map((s) => this.check(s.name)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.logger.error(`start-up check of ${this.schedules[i]!.name} failed: ${errorMessage(r.reason)}`);
    });
  }

  /** Stops the timers and waits for checks in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) t.stop();
    await Promise.allSettled([...this.tails.values()]);
  }

  /** Decides whether `name` ticks now and appends the tick if so. */
  check(name: string): Promise<CheckOutcome> {
    const schedule = this.find(name);
    if (!schedule) return Promise.reject(new Error(`unknown schedule ${name}`));
    return this.serialised(name, async () => {
      if (this.stopped) return { kind: 'ignored', reason: 'not-due' } as const;
      let reason: TickIgnoreReason = 'already-fired';
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const last = await this.tickLog.lastTick(name);
        const decision = decideTick(schedule, last?.event.data, this.clock.now(), {
          calendar: this.calendars.get(name)!,
          graceMs: this.options.graceMs,
        });
        if (decision.kind === 'ignore') return { kind: 'ignored', reason: decision.reason };
        const event = this.toEvent(decision);
        if ((await this.tickLog.append(event, last?.seq)) === 'appended') {
          this.logger.log(`${name}: tick for ${event.data.scheduledFor}${event.data.catchUp ? ' (catch-up)' : ''}`);
          return { kind: 'appended', event };
        }
        // Another replica (or this process before a restart) appended first: read again and re-decide.
        reason = 'already-fired';
      }
      return { kind: 'ignored', reason };
    });
  }

  /** An operator's "fire now": a tick with a fresh id for now, whatever the slots say. */
  fire(name: string): Promise<FireReply> {
    const schedule = this.find(name);
    if (!schedule) return Promise.resolve({ ok: false, error: `unknown schedule ${JSON.stringify(name)}` });
    return this.serialised(name, async (): Promise<FireReply> => {
      const decision: TickDecision = decideManualFire(schedule, this.clock.now(), newEventId());
      if (decision.kind === 'ignore') return { ok: false, error: `schedule ${JSON.stringify(name)} is ${decision.reason}` };
      const event = this.toEvent(decision);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const last = await this.tickLog.lastTick(name);
        // Our own id already stored means an earlier attempt landed after all.
        if (last?.event.id === event.id || (await this.tickLog.append(event, last?.seq)) === 'appended')
          return { ok: true, eventId: event.id };
      }
      return { ok: false, error: `schedule ${JSON.stringify(name)} kept changing while firing; try again` };
    });
  }

  /** Every schedule with its next slot and its last tick in the stream. */
  async list(): Promise<ScheduleStatus[]> {
    const now = this.clock.now();
    return Promise.all(
      this.schedules.map(async (s) => {
        const last: StoredTick | undefined = await this.tickLog.lastTick(s.name);
        const next = s.enabled ? this.calendars.get(s.name)!.nextAfter(now) : undefined;
        return {
          name: s.name,
          cron: s.cron,
          timezone: s.timezone,
          task: s.task,
          enabled: s.enabled,
          nextRun: next?.toISOString() ?? null,
          lastTick: last
            ? {
                id: last.event.id,
                scheduledFor: last.event.data.scheduledFor,
                firedAt: last.event.data.firedAt,
                catchUp: last.event.data.catchUp,
              }
            : null,
        };
      }),
    );
  }

  private find(name: string): Schedule | undefined {
    return this.schedules.find((s) => s.name === name);
  }

  private toEvent(decision: FireTick): TickEvent {
    return createEvent(EventTypes.BulkTaskTick, decision.data.schedule, decision.data, {
      source: this.options.source,
      time: decision.data.firedAt,
      id: decision.id,
    });
  }

  private serialised<T>(name: string, work: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(name) ?? Promise.resolve()).then(work, work);
    this.tails.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  }
}
