import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { commonEnv, errorMessage, readEnv, redactUrls } from '@idm/config';
import { messagingConfigFromEnv, type MessagingConfig } from '@idm/messaging';
import { createAppMetrics, createLogger, healthPortFrom, PinoNestLogger } from '@idm/observability';
import { loadDirectorySourceSettings, type DirectorySourceSettings } from './directory-source.config.js';
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
  let settings: DirectorySourceSettings;
  let messaging: MessagingConfig;
  let healthPort: number | null;
  try {
    settings = loadDirectorySourceSettings();
    messaging = messagingConfigFromEnv('directory-source');
    healthPort = healthPortFrom(process.env, DIRECTORY_SOURCE_HEALTH_PORT);
  } catch (err) {
    // Invalid configuration stops the start with the message alone; messages never hold the bind password.
    logger.error(errorMessage(err));
    process.exitCode = 1;
    return;
  }
  const app = await NestFactory.createApplicationContext(DirectorySourceModule.forRoot({ settings, messaging }), { logger: nestLogger });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const health = await observeDirectorySource(app, { metrics: createAppMetrics('directory-source'), port: healthPort, logger: nestLogger });
  app.get(PollLoop).start();
  const { ldap } = settings;
  logger.log(
    `ready: ${redactUrls(ldap.url)}${ldap.startTls ? ' (StartTLS)' : ''} base ${ldap.baseDn}, dialect ${ldap.dialect}, every ${settings.intervalMs / 1000} s, full scan "${settings.poll.fullScanCron}", initial sync ${settings.poll.initialSync}${health ? `, health on :${health.port}` : ''}`,
  );
}

bootstrap().catch((err: unknown) => {
  new Logger('DirectorySource').error(`start failed: ${errorMessage(err)}`);
  process.exit(1);
});
