import { z } from 'zod';

/** Core-NATS request/reply subjects of the scheduler (outside the stream, like every `idm.cmd.>`). */
export const SchedulerCommandSubjects = {
  List: 'idm.cmd.scheduler.list',
  Fire: 'idm.cmd.scheduler.fire',
} as const;

/** Body of `idm.cmd.scheduler.fire`. */
export const fireRequestSchema = z.object({ schedule: z.string().min(1) });

/** Queue group: with several replicas, one of them answers each command. */
export const SCHEDULER_COMMAND_QUEUE = 'idm-scheduler';
