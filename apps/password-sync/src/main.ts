import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JetStreamTransport, messagingConfigFromEnv, transportOptions, type MessagingConfig } from '@idm/messaging';
import { PASSWORD_SYNC_CONSUMER, PasswordSyncModule } from './password-sync.module.js';
import { loadPasswordSyncSettings, type PasswordSyncSettings } from './shell/password-sync.config.js';

/**
 * password-sync: a JetStream consumer (UserAdded / UserModified), a core-NATS responder
 * (idm.cmd.password.change) and a sweeper. SIGTERM/SIGINT: stop pulling and answering, let work
 * in flight finish, then drain NATS and close the database.
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('PasswordSync');
  let settings: PasswordSyncSettings;
  let messaging: MessagingConfig;
  try {
    settings = loadPasswordSyncSettings();
    messaging = messagingConfigFromEnv('password-sync');
  } catch (err) {
    // Invalid configuration stops the start with the message alone; messages never hold secrets.
    logger.error((err as Error).message);
    process.exitCode = 1;
    return;
  }
  for (const warning of [...settings.key.warnings, ...settings.policy.warnings]) logger.warn(warning);
  const app = await NestFactory.createMicroservice(PasswordSyncModule.forRoot({ settings, messaging }), {
    strategy: new JetStreamTransport(transportOptions(messaging, PASSWORD_SYNC_CONSUMER)),
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen();
  const expiry = settings.policy.minutes === null ? 'never' : `${settings.policy.minutes} min`;
  logger.log(`ready: target ${settings.target.PASSWORD_TARGET.replace(/\/\/[^@/]*@/, '//')}, expiry ${expiry}, key ${settings.key.source}`);
}

bootstrap().catch((err: unknown) => {
  new Logger('PasswordSync').error(`start failed: ${(err as Error).message}`);
  process.exit(1);
});
