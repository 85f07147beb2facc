import { deriveEventId, type BulkTaskTickData } from '@idm/contracts';
import type { SlotCalendar } from '../schedules/cron-calendar.js';
import type { Schedule } from '../schedules/schedule.js';

/** Why a check appended nothing. */
export type TickIgnoreReason = 'not-due' | 'disabled' | 'already-fired';

/** Append a `BulkTaskTick` with this id and data. */
export interface FireTick {
  readonly kind: 'fire';
  readonly id: string;
  readonly data: BulkTaskTickData;
}

/** Append nothing. */
export interface IgnoreTick {
  readonly kind: 'ignore';
  readonly reason: TickIgnoreReason;
}

export type TickDecision = FireTick | IgnoreTick;

/** What the decider needs to know about the schedule's last tick in the stream. */
export interface LastTick {
  readonly scheduledFor: string;
}

/** Inputs that are not state: the schedule's slots and how late a slot may still fire as on time. */
export interface TickContext {
  readonly calendar: SlotCalendar;
  /** A slot older than this (ms) when we get to it is late, so its tick is marked `catchUp`. */
  readonly graceMs: number;
}

/**
 * Counting missed slots walks the calendar one slot at a time; a per-second schedule down for a week
 * would be 600,000 steps on every start. Past this many the count stops (the tick says "at least").
 */
export const MISSED_SLOTS_COUNT_LIMIT = 10_000;

/** The tick id of a schedule slot: every replica, and every restart, derives the same one. */
export function slotTickId(schedule: string, scheduledForIso: string): string {
  return deriveEventId('tick', schedule, scheduledForIso);
}

/**
 * Should the schedule tick now? Called on every timer firing and once at start.
 *
 * - The slot considered is the latest one at or before `now`; earlier missed slots are folded into
 *   it, so downtime gives ONE tick, marked `catchUp: true`, never a burst.
 * - A slot at or before the last tick's `scheduledFor` is already covered (by a replica, by this
 *   process before a restart, or by a manual fire).
 * - No last tick at all (a brand-new stream): we have no history to catch up on, so only a slot
 *   within the grace window fires (that is the timer's own firing); otherwise wait for the next slot.
 * - `catchUp` is true when slots between the last tick and this one were skipped, or this slot is
 *   older than the grace window. `missedSlots` counts the skipped ones (up to
 *   {@link MISSED_SLOTS_COUNT_LIMIT}).
 */
export function decideTick(schedule: Schedule, lastTick: LastTick | undefined, now: Date, context: TickContext): TickDecision {
  if (!schedule.enabled) return ignore('disabled');
  const slot = context.calendar.latestAtOrBefore(now);
  if (slot === undefined) return ignore('not-due');
  const late = now.getTime() - slot.getTime() > context.graceMs;
  if (lastTick === undefined) return late ? ignore('not-due') : fire(schedule, slot, now, false, 0);
  const lastAt = new Date(lastTick.scheduledFor);
  if (slot.getTime() <= lastAt.getTime()) return ignore('already-fired');
  const missed = countSlotsBetween(context.calendar, lastAt, slot);
  return fire(schedule, slot, now, missed > 0 || late, missed);
}

/** Slots strictly between `after` and `before`, counted up to {@link MISSED_SLOTS_COUNT_LIMIT}. */
function countSlotsBetween(calendar: SlotCalendar, after: Date, before: Date): number {
  let count = 0;
  for (
    let at = calendar.nextAfter(after);
    at !== undefined && at.getTime() < before.getTime() && count < MISSED_SLOTS_COUNT_LIMIT;
    at = calendar.nextAfter(at)
  )
    count++;
  return count;
}

/**
 * An operator's "fire now": scheduledFor = now and a fresh id (passed in, so this stays pure),
 * since it stands for no slot. A disabled schedule is not fired: disabled means "do not run".
 */
export function decideManualFire(schedule: Schedule, now: Date, freshId: string): TickDecision {
  if (!schedule.enabled) return ignore('disabled');
  const at = now.toISOString();
  return {
    kind: 'fire',
    id: freshId,
    data: { schedule: schedule.name, task: schedule.task, scheduledFor: at, firedAt: at, catchUp: false, missedSlots: 0 },
  };
}

function fire(schedule: Schedule, slot: Date, now: Date, catchUp: boolean, missedSlots: number): FireTick {
  const scheduledFor = slot.toISOString();
  return {
    kind: 'fire',
    id: slotTickId(schedule.name, scheduledFor),
    data: { schedule: schedule.name, task: schedule.task, scheduledFor, firedAt: now.toISOString(), catchUp, missedSlots },
  };
}

function ignore(reason: TickIgnoreReason): IgnoreTick {
  return { kind: 'ignore', reason };
}
