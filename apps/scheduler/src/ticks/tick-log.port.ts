import type { IdmEventOf } from '@idm/contracts';

/** A `BulkTaskTick` event. */
export type TickEvent = IdmEventOf<'idm.bulk-task.tick'>;

/** The last tick of a schedule and its stream sequence. */
export interface StoredTick {
  readonly event: TickEvent;
  readonly seq: number;
}

/**
 * The scheduler's only state: the last tick per schedule, kept in the event stream.
 * Swapped in tests; the real one is the JetStream adapter.
 */
export abstract class TickLog {
  /** The last tick on the schedule's subject, or undefined if it never ticked. */
  abstract lastTick(schedule: string): Promise<StoredTick | undefined>;
  /**
   * Appends a tick only if the schedule's subject still ends at `expectedLastSeq` (undefined = no
   * tick yet) and its id is new. `'already-fired'` means another replica (or an earlier run of this
   * one) got there first. Transport errors are thrown.
   */
  abstract append(event: TickEvent, expectedLastSeq: number | undefined): Promise<'appended' | 'already-fired'>;
}
