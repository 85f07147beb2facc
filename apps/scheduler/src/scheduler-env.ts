import { z } from 'zod';

/** The scheduler's own variables; the NATS ones come from `messagingEnv` in `@idm/messaging`. */
export const schedulerEnv = {
  SCHEDULES_FILE: z.string().optional(),
  EMAIL_RETRY_CRON: z.string().optional(),
  SCHEDULER_GRACE_SECONDS: z.coerce.number().int().min(0).default(60),
};
