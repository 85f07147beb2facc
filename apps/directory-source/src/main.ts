import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { messagingConfigFromEnv } from '@idm/messaging';
import { createAppMetrics, healthPortFrom, runApp } from '@idm/observability';
import { redactUrls } from '@idm/config';
import { readDirectorySourceConfig } from './directory-source.config.js';
import { DirectorySourceModule } from './directory-source.module.js';
import { DIRECTORY_SOURCE_HEALTH_PORT, observeDirectorySource } from './directory-source.observability.js';
import { PollLoop } from './poller/poll-loop.js';

/**
 * directory-source: no consumer and no HTTP API, only the poll loop and the stream, so an
 * application context is enough. Configuration messages never hold the bind password.
 * SIGTERM/SIGINT: stop the timer, let a poll in flight finish (publish and commit, or neither),
 * then drain NATS and close the database.
 */
await runApp({
  app: 'directory-source',
  context: 'DirectorySource',
  configure: () => ({
    config: readDirectorySourceConfig(),
    messaging: messagingConfigFromEnv('directory-source'),
    healthPort: healthPortFrom(process.env, DIRECTORY_SOURCE_HEALTH_PORT),
  }),
  start: async ({ config, messaging, healthPort }, { nestLogger, logger }) => {
    const app = await NestFactory.createApplicationContext(DirectorySourceModule.forRoot({ config, messaging }), { logger: nestLogger });
    app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    const health = await observeDirectorySource(app, {
      metrics: createAppMetrics('directory-source'),
      port: healthPort,
      logger: nestLogger,
    });
    app.get(PollLoop).start();
    const { ldap } = config;
    logger.log(
      `ready: ${redactUrls(ldap.url)}${ldap.startTls ? ' (StartTLS)' : ''} base ${ldap.baseDn}, dialect ${ldap.dialect}, every ${config.intervalMs / 1000} s, full scan "${config.poll.fullScanCron}", initial sync ${config.poll.initialSync}${health ? `, health on :${health.port}` : ''}`,
    );
  },
});
