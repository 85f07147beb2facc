import 'reflect-metadata';
import { Logger, type LogLevel as NestLogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { commonEnv, readEnv, type LogLevel } from '@idm/config';
import { loadSchedules } from './schedules/schedule-config.js';
import { schedulerEnv } from './scheduler-env.js';
import { SchedulerModule } from './scheduler.module.js';

/**
 * The scheduler: no HTTP server and no consumer, only timers, the stream and two core-NATS
 * commands, so an application context is enough. SIGTERM/SIGINT stop the timers, let checks in
 * flight finish, then drain the connection.
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Scheduler');
  let schedules;
  let env;
  try {
    env = readEnv({ ...schedulerEnv, LOG_LEVEL: commonEnv.LOG_LEVEL });
    schedules = loadSchedules(env);
  } catch (err) {
    // Invalid configuration stops the start with the message alone; a stack would only hide it.
    logger.error((err as Error).message);
    process.exitCode = 1;
    return;
  }
  const app = await NestFactory.createApplicationContext(
    SchedulerModule.forRoot({ schedules, options: { source: '/idm/scheduler', graceMs: env.SCHEDULER_GRACE_SECONDS * 1000 } }),
    { logger: nestLevels(env.LOG_LEVEL) },
  );
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  for (const s of schedules) logger.log(`${s.name}: ${s.enabled ? `${s.cron} (${s.timezone}) → ${s.task}` : 'disabled'}`);
}

/** `LOG_LEVEL` and everything more severe, in Nest's names. */
function nestLevels(level: LogLevel): NestLogLevel[] {
  const order: Array<[LogLevel, NestLogLevel]> = [
    ['fatal', 'fatal'],
    ['error', 'error'],
    ['warn', 'warn'],
    ['info', 'log'],
    ['debug', 'debug'],
    ['trace', 'verbose'],
  ];
  return order.slice(0, order.findIndex(([l]) => l === level) + 1).map(([, n]) => n);
}

bootstrap().catch((err: unknown) => {
  new Logger('Scheduler').error(`start failed: ${(err as Error).message}`);
  process.exit(1);
});
