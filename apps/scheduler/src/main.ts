import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { commonEnv, errorMessage, readEnv } from '@idm/config';
import { createAppMetrics, createLogger, healthPortFrom, PinoNestLogger } from '@idm/observability';
import { loadSchedules } from './schedules/schedule-config.js';
import { schedulerEnv } from './scheduler-env.js';
import { SchedulerModule } from './scheduler.module.js';
import { SCHEDULER_HEALTH_PORT, schedulerTickMetrics, startSchedulerHealth } from './scheduler.observability.js';

/**
 * The scheduler: no HTTP server and no consumer, only timers, the stream and two core-NATS
 * commands, so an application context is enough. SIGTERM/SIGINT stop the timers, let checks in
 * flight finish, then drain the connection.
 */
async function bootstrap(): Promise<void> {
  const pino = createLogger({ app: 'scheduler', level: readEnv({ LOG_LEVEL: commonEnv.LOG_LEVEL }).LOG_LEVEL });
  const nestLogger = new PinoNestLogger(pino);
  Logger.overrideLogger(nestLogger);
  const logger = new Logger('Scheduler');
  let schedules;
  let env;
  let healthPort: number | null;
  try {
    env = readEnv(schedulerEnv);
    schedules = loadSchedules(env);
    healthPort = healthPortFrom(process.env, SCHEDULER_HEALTH_PORT);
  } catch (err) {
    // Invalid configuration stops the start with the message alone; a stack would only hide it.
    logger.error(errorMessage(err));
    process.exitCode = 1;
    return;
  }
  const metrics = createAppMetrics('scheduler');
  const app = await NestFactory.createApplicationContext(
    SchedulerModule.forRoot({
      schedules,
      options: { source: '/idm/scheduler', graceMs: env.SCHEDULER_GRACE_SECONDS * 1000 },
      onAppended: schedulerTickMetrics(
        metrics,
        schedules.filter((s) => s.enabled).map((s) => s.name),
      ),
    }),
    { logger: nestLogger },
  );
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const health = await startSchedulerHealth(app, { metrics, port: healthPort, logger: nestLogger });
  if (health) logger.log(`health on :${health.port}`);
  for (const s of schedules) logger.log(`${s.name}: ${s.enabled ? `${s.cron} (${s.timezone}) → ${s.task}` : 'disabled'}`);
}

bootstrap().catch((err: unknown) => {
  new Logger('Scheduler').error(`start failed: ${errorMessage(err)}`);
  process.exit(1);
});
