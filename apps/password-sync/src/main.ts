import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { commonEnv, errorMessage, readEnv, redactUrls } from '@idm/config';
import { JetStreamTransport, messagingConfigFromEnv, transportOptions, type MessagingConfig } from '@idm/messaging';
import { createAppMetrics, createLogger, healthPortFrom, PinoNestLogger, settledObserver } from '@idm/observability';
import { PASSWORD_SYNC_CONSUMER, PasswordSyncModule } from './password-sync.module.js';
import { observePasswordSync, PASSWORD_SYNC_HEALTH_PORT } from './password-sync.observability.js';
import { loadPasswordSyncSettings, type PasswordSyncSettings } from './shell/password-sync.config.js';

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
  let settings: PasswordSyncSettings;
  let messaging: MessagingConfig;
  let healthPort: number | null;
  try {
    settings = loadPasswordSyncSettings();
    messaging = messagingConfigFromEnv('password-sync');
    healthPort = healthPortFrom(process.env, PASSWORD_SYNC_HEALTH_PORT);
  } catch (err) {
    // Invalid configuration stops the start with the message alone; messages never hold secrets.
    logger.error(errorMessage(err));
    process.exitCode = 1;
    return;
  }
  for (const warning of [...settings.key.warnings, ...settings.policy.warnings]) logger.warn(warning);
  const metrics = createAppMetrics('password-sync');
  const transport = new JetStreamTransport(
    transportOptions(messaging, PASSWORD_SYNC_CONSUMER, { onSettled: settledObserver(metrics, pino) }),
  );
  const app = await NestFactory.createMicroservice(PasswordSyncModule.forRoot({ settings, messaging }), {
    strategy: transport,
    logger: nestLogger,
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen();
  const health = await observePasswordSync(app, transport, { metrics, messaging, port: healthPort, logger: nestLogger });
  const expiry = settings.policy.minutes === null ? 'never' : `${settings.policy.minutes} min`;
  logger.log(
    `ready: target ${redactUrls(settings.target.PASSWORD_TARGET)}, expiry ${expiry}, key ${settings.key.source}${health ? `, health on :${health.port}` : ''}`,
  );
}

bootstrap().catch((err: unknown) => {
  new Logger('PasswordSync').error(`start failed: ${errorMessage(err)}`);
  process.exit(1);
});
