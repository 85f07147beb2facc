import type { IdmEvent } from '@idm/contracts';

/** An event as operator tools show it: its stream sequence and the decoded event. */
export interface SequencedEvent {
  readonly seq: number;
  readonly event: IdmEvent;
}

/** Events that share a correlation id (a cause and its effects), newest group first. */
export interface TimelineGroup {
  /** The correlation id, or the event id of an event that has none (it is its own chain). */
  readonly correlationId: string;
  /** Newest first. */
  readonly events: readonly SequencedEvent[];
}

/**
 * Groups a user's events by correlation id so a cause and its effects read together. Groups are
 * ordered by their newest event, newest first; events inside a group newest first. Pure.
 */
export function groupTimeline(events: readonly SequencedEvent[]): TimelineGroup[] {
  const groups = new Map<string, SequencedEvent[]>();
  for (const e of [...events].sort((a, b) => b.seq - a.seq)) {
    const key = e.event.correlationid ?? e.event.id;
    const list = groups.get(key);
    if (list) list.push(e);
    else groups.set(key, [e]);
  }
  return [...groups.entries()].map(([correlationId, list]) => ({ correlationId, events: list }));
}

/** Counts of events per minute and type over a window, oldest minute first. */
export interface EventsPerMinute {
  /** ISO start of each minute, oldest first; `minutes` entries. */
  readonly minutes: readonly string[];
  /** Type → count for each minute (same order as `minutes`). Only types that occurred. */
  readonly byType: Readonly<Record<string, readonly number[]>>;
}

/**
 * Buckets events (by their stored time) into the `minutes` whole minutes ending with the one that
 * holds `now`. Events outside the window are ignored. Pure: time arrives as data.
 */
export function eventsPerMinute(
  events: ReadonlyArray<{ readonly type: string; readonly time: Date }>,
  now: Date,
  minutes: number,
): EventsPerMinute {
  const lastStart = Math.floor(now.getTime() / 60_000) * 60_000;
  const firstStart = lastStart - (minutes - 1) * 60_000;
  const starts = Array.from({ length: minutes }, (_, i) => firstStart + i * 60_000);
  const byType: Record<string, number[]> = {};
  for (const e of events) {
    const index = Math.floor((e.time.getTime() - firstStart) / 60_000);
    if (index < 0 || index >= minutes) continue;
    (byType[e.type] ??= new Array<number>(minutes).fill(0))[index]! += 1;
  }
  return { minutes: starts.map((s) => new Date(s).toISOString()), byType };
}
