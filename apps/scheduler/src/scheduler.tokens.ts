/** DI token: the validated `Schedule[]`. */
export const SCHEDULES = Symbol('SCHEDULES');
/** DI token: the scheduler shell's `SchedulerOptions`. */
export const SCHEDULER_OPTIONS = Symbol('SCHEDULER_OPTIONS');
/** CloudEvents `source` of every tick the scheduler appends. */
export const SCHEDULER_SOURCE = '/idm/scheduler';
