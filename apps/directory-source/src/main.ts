import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { commonEnv, readEnv } from '@idm/config';
import { messagingConfigFromEnv, type MessagingConfig } from '@idm/messaging';
import { createAppMetrics, createLogger, healthPortFrom, PinoNestLogger, scrubUrls } from '@idm/observability';
import { readDirectorySourceConfig, type DirectorySourceConfig } from './directory-source.config.js';
import { DirectorySourceModule } from './directory-source.module.js';
import { DIRECTORY_SOURCE_HEALTH_PORT, observeDirectorySource } from './directory-source.observability.js';
import { PollLoop } from './poller/poll-loop.js';

/**
 * directory-source: no consumer and no HTTP API, only the poll loop and the stream, so an
 * application context is enough. SIGTERM/SIGINT: stop the timer, let a poll in flight finish
 * (publish and commit, or neither), then drain NATS and close the database.
 */
async function bootstrap(): Promise<void> {
  const pino = createLogger({ app: 'directory-source', level: readEnv({ LOG_LEVEL: commonEnv.LOG_LEVEL }).LOG_LEVEL });
  const nestLogger = new PinoNestLogger(pino);
  Logger.overrideLogger(nestLogger);
  const logger = new Logger('DirectorySource');
  let config: DirectorySourceConfig;
  let messaging: MessagingConfig;
  let healthPort: number | null;
  try {
    config = readDirectorySourceConfig();
    messaging = messagingConfigFromEnv('directory-source');
    healthPort = healthPortFrom(process.env, DIRECTORY_SOURCE_HEALTH_PORT);
  } catch (err) {
    // Invalid configuration stops the start with the message alone; messages never hold the bind password.
    logger.error((err as Error).message);
    process.exitCode = 1;
    return;
  }
  const app = await NestFactory.createApplicationContext(DirectorySourceModule.forRoot({ config, messaging }), { logger: nestLogger });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const health = await observeDirectorySource(app, { metrics: createAppMetrics('directory-source'), port: healthPort, logger: nestLogger });
  app.get(PollLoop).start();
  const { ldap } = config;
  logger.log(
    `ready: ${scrubUrls(ldap.url)}${ldap.startTls ? ' (StartTLS)' : ''} base ${ldap.baseDn}, dialect ${ldap.dialect}, every ${config.intervalMs / 1000} s, full scan "${config.poll.fullScanCron}", initial sync ${config.poll.initialSync}${health ? `, health on :${health.port}` : ''}`,
  );
}

bootstrap().catch((err: unknown) => {
  new Logger('DirectorySource').error(`start failed: ${(err as Error).message}`);
  process.exit(1);
});
