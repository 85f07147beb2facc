import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { JetStreamTransport, messagingConfigFromEnv, transportOptions } from '@idm/messaging';
import { createAppMetrics, healthPortFrom, runApp, settledObserver } from '@idm/observability';
import { redactUrls } from '@idm/config';
import { readPasswordSyncConfig } from './password-sync.config.js';
import { PasswordSyncModule } from './password-sync.module.js';
import { observePasswordSync, PASSWORD_SYNC_HEALTH_PORT } from './password-sync.observability.js';
import { PASSWORD_SYNC_CONSUMER } from './password-sync.tokens.js';

/**
 * password-sync: a JetStream consumer (UserAdded / UserModified), a core-NATS responder
 * (idm.cmd.password.change) and a sweeper. Invalid configuration stops the start with the message
 * alone (messages never hold secrets). SIGTERM/SIGINT: stop pulling and answering, let work in
 * flight finish, then drain NATS and close the database.
 */
await runApp({
  app: 'password-sync',
  context: 'PasswordSync',
  configure: () => ({
    config: readPasswordSyncConfig(),
    messaging: messagingConfigFromEnv('password-sync'),
    healthPort: healthPortFrom(process.env, PASSWORD_SYNC_HEALTH_PORT),
  }),
  start: async ({ config, messaging, healthPort }, { pino, nestLogger, logger }) => {
    for (const warning of [...config.key.warnings, ...config.policy.warnings]) logger.warn(warning);
    const metrics = createAppMetrics('password-sync');
    const transport = new JetStreamTransport(
      transportOptions(messaging, PASSWORD_SYNC_CONSUMER, { onSettled: settledObserver(metrics, pino) }),
    );
    const app = await NestFactory.createMicroservice(PasswordSyncModule.forRoot({ config, messaging }), {
      strategy: transport,
      logger: nestLogger,
    });
    app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    await app.listen();
    const health = await observePasswordSync(app, transport, { metrics, messaging, port: healthPort, logger: nestLogger });
    const expiry = config.policy.minutes === null ? 'never' : `${config.policy.minutes} min`;
    logger.log(
      `ready: target ${redactUrls(config.target.PASSWORD_TARGET)}, expiry ${expiry}, key ${config.key.source}${health ? `, health on :${health.port}` : ''}`,
    );
  },
});
