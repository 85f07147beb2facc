import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { commonEnv, readEnv } from '@idm/config';
import { createAppMetrics, createLogger, healthPortFrom, PinoNestLogger } from '@idm/observability';
import { readSchedulerConfig, type SchedulerConfig } from './scheduler.config.js';
import { SchedulerModule } from './scheduler.module.js';
import { SCHEDULER_SOURCE } from './scheduler.tokens.js';
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
  let config: SchedulerConfig;
  let healthPort: number | null;
  try {
    config = readSchedulerConfig();
    healthPort = healthPortFrom(process.env, SCHEDULER_HEALTH_PORT);
  } catch (err) {
    // Invalid configuration stops the start with the message alone; a stack would only hide it.
    logger.error((err as Error).message);
    process.exitCode = 1;
    return;
  }
  const metrics = createAppMetrics('scheduler');
  const app = await NestFactory.createApplicationContext(
    SchedulerModule.forRoot({
      schedules: config.schedules,
      options: { source: SCHEDULER_SOURCE, graceMs: config.graceMs },
      onAppended: schedulerTickMetrics(
        metrics,
        config.schedules.filter((s) => s.enabled).map((s) => s.name),
      ),
    }),
    { logger: nestLogger },
  );
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const health = await startSchedulerHealth(app, { metrics, port: healthPort, logger: nestLogger });
  if (health) logger.log(`health on :${health.port}`);
  for (const s of config.schedules) logger.log(`${s.name}: ${s.enabled ? `${s.cron} (${s.timezone}) → ${s.task}` : 'disabled'}`);
}

bootstrap().catch((err: unknown) => {
  new Logger('Scheduler').error(`start failed: ${(err as Error).message}`);
  process.exit(1);
});
