import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { commonEnv, errorMessage, readEnv } from '@idm/config';
import { JetStreamTransport, messagingConfigFromEnv, transportOptions, type MessagingConfig } from '@idm/messaging';
import { createAppMetrics, createLogger, healthPortFrom, PinoNestLogger, settledObserver } from '@idm/observability';
import { emailTypesOf } from './email-rules/email-rules.config.js';
import { readNotifierConfig, type NotifierConfig } from './notifier.config.js';
import { NotifierModule } from './notifier.module.js';
import { NOTIFIER_HEALTH_PORT, observeNotifier } from './notifier.observability.js';
import { NOTIFIER_CONSUMER } from './notifier.tokens.js';
import { loadTemplates, type TemplateSet } from './templates/template-store.js';

/**
 * The notifier: a JetStream consumer (user/password events, its own email events, retry ticks).
 * Configuration, rules and templates are checked before anything connects; SIGTERM/SIGINT stop
 * pulling, let handlers in flight finish, then close SMTP, NATS and the database.
 */
async function bootstrap(): Promise<void> {
  const pino = createLogger({ app: 'notifier', level: readEnv({ LOG_LEVEL: commonEnv.LOG_LEVEL }).LOG_LEVEL });
  const nestLogger = new PinoNestLogger(pino);
  Logger.overrideLogger(nestLogger);
  const logger = new Logger('Notifier');
  let config: NotifierConfig;
  let templates: TemplateSet;
  let messaging: MessagingConfig;
  let healthPort: number | null;
  try {
    config = readNotifierConfig();
    templates = loadTemplates(emailTypesOf(config.rules), config.templatesDir);
    messaging = messagingConfigFromEnv('notifier');
    healthPort = healthPortFrom(process.env, NOTIFIER_HEALTH_PORT);
  } catch (err) {
    // The message names the variable or template at fault and never holds a credential.
    logger.error(errorMessage(err));
    process.exitCode = 1;
    return;
  }
  const metrics = createAppMetrics('notifier');
  const transport = new JetStreamTransport(transportOptions(messaging, NOTIFIER_CONSUMER, { onSettled: settledObserver(metrics, pino) }));
  const app = await NestFactory.createMicroservice(NotifierModule.forRoot({ config, templates, messaging }), {
    strategy: transport,
    logger: nestLogger,
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen();
  const health = await observeNotifier(app, transport, { metrics, messaging, port: healthPort, logger: nestLogger });
  if (!config.smtp.rejectUnauthorized) logger.warn('SMTP_TLS_REJECT_UNAUTHORIZED=false: the mail server certificate is NOT verified');
  logger.log(
    `ready: SMTP ${config.smtp.safeUrl}, email types ${[...templates.keys()].join(', ')}, retry task ${config.retryTask}${health ? `, health on :${health.port}` : ''}`,
  );
}

bootstrap().catch((err: unknown) => {
  new Logger('Notifier').error(`start failed: ${errorMessage(err)}`);
  process.exit(1);
});
