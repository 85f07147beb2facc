import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createAppMetrics, healthPortFrom, runApp } from '@idm/observability';
import { readSchedulerConfig } from './scheduler.config.js';
import { SchedulerModule } from './scheduler.module.js';
import { SCHEDULER_HEALTH_PORT, schedulerTickMetrics, startSchedulerHealth } from './scheduler.observability.js';
import { SCHEDULER_SOURCE } from './scheduler.tokens.js';

/**
 * The scheduler: no HTTP server and no consumer, only timers, the stream and two core-NATS
 * commands, so an application context is enough. SIGTERM/SIGINT stop the timers, let checks in
 * flight finish, then drain the connection.
 */
await runApp({
  app: 'scheduler',
  context: 'Scheduler',
  configure: () => ({ config: readSchedulerConfig(), healthPort: healthPortFrom(process.env, SCHEDULER_HEALTH_PORT) }),
  start: async ({ config, healthPort }, { nestLogger, logger }) => {
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
  },
});
