import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { commonEnv, readEnv } from '@idm/config';
import { JetStreamTransport, messagingConfigFromEnv, transportOptions, type MessagingConfig } from '@idm/messaging';
import { createAppMetrics, createLogger, healthPortFrom, PinoNestLogger, scrubUrls, settledObserver } from '@idm/observability';
import { PasswordSyncModule } from './password-sync.module.js';
import { PASSWORD_SYNC_CONSUMER } from './password-sync.tokens.js';
import { observePasswordSync, PASSWORD_SYNC_HEALTH_PORT } from './password-sync.observability.js';
import { readPasswordSyncConfig, type PasswordSyncConfig } from './password-sync.config.js';

/**
 * password-sync: a JetStream consumer (UserAdded / UserModified), a core-NATS responder
 * (idm.cmd.password.change) and a sweeper. SIGTERM/SIGINT: stop pulling and answering, let work
 * in flight finish, then drain NATS and close the database.
 */
async function bootstrap(): Promise<void> {
  const pino = createLogger({ app: 'password-sync', level: readEnv({ LOG_LEVEL: commonEnv.LOG_LEVEL }).LOG_LEVEL });
  const nestLogger = new PinoNestLogger(pino);
  Logger.overrideLogger(nestLogger);
  const logger = new Logger('PasswordSync');
  let config: PasswordSyncConfig;
  let messaging: MessagingConfig;
  let healthPort: number | null;
  try {
    config = readPasswordSyncConfig();
    messaging = messagingConfigFromEnv('password-sync');
    healthPort = healthPortFrom(process.env, PASSWORD_SYNC_HEALTH_PORT);
  } catch (err) {
    // Invalid configuration stops the start with the message alone; messages never hold secrets.
    logger.error((err as Error).message);
    process.exitCode = 1;
    return;
  }
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
    `ready: target ${scrubUrls(config.target.PASSWORD_TARGET)}, expiry ${expiry}, key ${config.key.source}${health ? `, health on :${health.port}` : ''}`,
  );
}

bootstrap().catch((err: unknown) => {
  new Logger('PasswordSync').error(`start failed: ${(err as Error).message}`);
  process.exit(1);
});
