/** DI token: the validated `Schedule[]`. */
export const SCHEDULES = 'IDM_SCHEDULER_SCHEDULES';

/** DI token: {@link SchedulerOptions}. */
export const SCHEDULER_OPTIONS = 'IDM_SCHEDULER_OPTIONS';

/** Tuning of the scheduler shell. */
export interface SchedulerOptions {
  /** CloudEvents `source` of ticks. */
  readonly source: string;
  /** How late a slot may be reached and still tick as on time (see the decider). */
  readonly graceMs: number;
}
