import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { readEnv, type EnvOf } from '@idm/config';
import { loadSchedules } from './schedules/schedule-config.js';
import type { Schedule } from './schedules/schedule.js';

/** The scheduler's own variables; the NATS ones come from `messagingEnv` in `@idm/messaging`. */
export const schedulerEnv = {
  SCHEDULES_FILE: z.string().optional(),
  EMAIL_RETRY_CRON: z.string().optional(),
  SCHEDULER_GRACE_SECONDS: z.coerce.number().int().min(0).default(60),
};

/** The validated scheduler configuration. */
export interface SchedulerConfig {
  /** Every variable, typed. */
  readonly env: EnvOf<typeof schedulerEnv>;
  /** The schedules from `SCHEDULES_FILE` (or the single default), `EMAIL_RETRY_CRON` applied. */
  readonly schedules: readonly Schedule[];
  /** How late a slot may be reached and still tick as on time. */
  readonly graceMs: number;
}

/**
 * Reads and validates the scheduler configuration once at start.
 * @throws ConfigError / ScheduleConfigError with a message naming the variable or the schedule.
 */
export function readSchedulerConfig(
  source: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): SchedulerConfig {
  const env = readEnv(schedulerEnv, source);
  return { env, schedules: loadSchedules(env, readFile), graceMs: env.SCHEDULER_GRACE_SECONDS * 1000 };
}
