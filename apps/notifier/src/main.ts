import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { JetStreamTransport, messagingConfigFromEnv, transportOptions } from '@idm/messaging';
import { createAppMetrics, healthPortFrom, runApp, settledObserver } from '@idm/observability';
import { emailTypesOf } from './email-rules/email-rules.config.js';
import { readNotifierConfig } from './notifier.config.js';
import { NotifierModule } from './notifier.module.js';
import { NOTIFIER_HEALTH_PORT, observeNotifier } from './notifier.observability.js';
import { INGEST_WINDOW } from './notifier.outbox.js';
import { NOTIFIER_CONSUMER } from './notifier.tokens.js';
import { loadTemplates } from './templates/template-store.js';

/**
 * The notifier: a JetStream consumer (user/password events, its own email events, retry ticks).
 * Configuration, rules and templates are checked before anything connects (their messages name the
 * variable or template at fault and never hold a credential); SIGTERM/SIGINT stop pulling, let
 * handlers in flight finish, then close SMTP, NATS and the database.
 */
await runApp({
  app: 'notifier',
  context: 'Notifier',
  configure: () => {
    const config = readNotifierConfig();
    return {
      config,
      templates: loadTemplates(emailTypesOf(config.rules), config.templatesDir),
      messaging: messagingConfigFromEnv('notifier'),
      healthPort: healthPortFrom(process.env, NOTIFIER_HEALTH_PORT),
    };
  },
  start: async ({ config, templates, messaging, healthPort }, { pino, nestLogger, logger }) => {
    const metrics = createAppMetrics('notifier');
    // The user-event consumer's deliveries are group-committed: a wide window fills the batches.
    const ingest = { concurrency: Math.max(messaging.concurrency, INGEST_WINDOW) };
    const transport = new JetStreamTransport(
      transportOptions(messaging, NOTIFIER_CONSUMER, {
        onSettled: settledObserver(metrics, pino),
        consumers: { [NOTIFIER_CONSUMER]: ingest },
      }),
    );
    const app = await NestFactory.createMicroservice(NotifierModule.forRoot({ config, templates, messaging }), {
      strategy: transport,
      logger: nestLogger,
    });
    app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    await app.listen();
    const health = await observeNotifier(app, transport, { metrics, messaging, port: healthPort, logger: nestLogger });
    if (!config.smtp.rejectUnauthorized) logger.warn('SMTP_TLS_REJECT_UNAUTHORIZED=false: the mail server certificate is NOT verified');
    logger.log(
      `ready: SMTP ${config.smtp.safeUrl}${config.smtpWorkers > 0 ? ` sent from up to ${config.smtpWorkers} worker threads` : ''}, email types ${[...templates.keys()].join(', ')}, retry task ${config.retryTask}${health ? `, health on :${health.port}` : ''}`,
    );
  },
});
