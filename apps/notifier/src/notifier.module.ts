import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { IdmEvent } from '@idm/contracts';
import { Outbox, OutboxRelay } from '@idm/persistence';
import { EventPublisher, MessagingModule, type MessagingConfig } from '@idm/messaging';
import { Clock, SystemClock } from '@idm/config';
import { MailTransport } from './delivery/mail-transport.js';
import { NodemailerMailTransport } from './delivery/nodemailer-mail-transport.js';
import { WorkerMailTransport } from './delivery/worker-mail-transport.js';
import { DeliveryOutcomeService } from './delivery/delivery-outcome.service.js';
import { RetryTickHandler } from './delivery/retry-tick.handler.js';
import { TickDeliveryService } from './delivery/tick-delivery.service.js';
import { InstanceLeaseService } from './instance-lease/instance-lease.service.js';
import type { InstanceLease } from './instance-lease/instance-lease.repository.js';
import type { NotifierConfig } from './notifier.config.js';
import { openNotifierDatabase } from './notifier.database.js';
import { createNotifierOutbox, createNotifierRelay, createOutcomeOutbox, OutboxRelayStarter } from './notifier.outbox.js';
import {
  NOTIFIER_CONFIG,
  NOTIFIER_INSTANCE_LEASE,
  NOTIFIER_OUTCOME_OUTBOX,
  NOTIFIER_SOURCE,
  NOTIFIER_TEMPLATES,
} from './notifier.tokens.js';
import { EmailFlagHandler } from './pending-emails/email-flag.handler.js';
import { EmailFlagService } from './pending-emails/email-flag.service.js';
import { PendingEmailRepository } from './pending-emails/pending-email.repository.js';
import { RecipientRepository } from './recipients/recipient.repository.js';
import { NotifierStatusResponder } from './status/notifier-status.responder.js';
import type { TemplateSet } from './templates/template-store.js';

/** What the app is built from; `main.ts` reads it from the environment, specs pass it. */
export interface NotifierModuleOptions {
  readonly config: NotifierConfig;
  /** Loaded and checked before Nest starts, so a missing template fails the start. */
  readonly templates: TemplateSet;
  /** Explicit messaging settings (specs); default: from the environment. */
  readonly messaging?: MessagingConfig;
  /** Specs swap these; default the system clock and nodemailer over `SMTP_URL` (in `SMTP_WORKERS` threads when set). */
  readonly clock?: Clock;
  readonly transport?: MailTransport;
  /** Postgres schema override (specs); default `DATABASE_SCHEMA`, else `notifier`. */
  readonly schema?: string;
}

/** How long shutdown waits for the relay (its running round, then a last one). */
const FINAL_DRAIN_MS = 2_000;

@Injectable()
class ResourceCloser implements OnApplicationShutdown {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MailTransport) private readonly transport: MailTransport,
    @Inject(InstanceLeaseService) private readonly lease: InstanceLeaseService,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay<IdmEvent>,
  ) {}
  /** After the transport stopped handling: nothing sends or writes any more. */
  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
    await this.lease.stop();
    // Bounded: with NATS gone the publisher retries a round for up to 30 s; what is left in the
    // outbox is published at the next start anyway.
    let bounded: NodeJS.Timeout | undefined;
    await Promise.race([
      this.relay
        .stop()
        .then(() => this.relay.drainOnce())
        .catch(() => undefined),
      new Promise<void>((resolve) => (bounded = setTimeout(resolve, FINAL_DRAIN_MS))),
    ]);
    clearTimeout(bounded);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** The notifier: email flags from user/password events, sending on retry ticks, each outcome stored with its events (outbox). */
@Module({})
export class NotifierModule {
  static forRoot(options: NotifierModuleOptions): DynamicModule {
    const { config } = options;
    const lease: InstanceLease = { instanceId: config.instanceId ?? randomUUID(), incarnation: randomUUID() };
    return {
      module: NotifierModule,
      imports: [MessagingModule.forRoot({ serviceName: 'notifier', ...(options.messaging ? { config: options.messaging } : {}) })],
      // No handler of the notifier's own idm.email.* events: an outcome's flag change commits with
      // its event (DeliveryOutcomeService), so consuming them would only apply them twice.
      controllers: [EmailFlagHandler, RetryTickHandler],
      providers: [
        { provide: NOTIFIER_CONFIG, useValue: config },
        { provide: NOTIFIER_TEMPLATES, useValue: options.templates },
        { provide: NOTIFIER_INSTANCE_LEASE, useValue: lease },
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
        {
          provide: MailTransport,
          useFactory: (): MailTransport | Promise<MailTransport> =>
            options.transport ??
            (config.smtpWorkers > 0
              ? WorkerMailTransport.start(config.smtp, config.smtpWorkers)
              : new NodemailerMailTransport(config.smtp)),
        },
        {
          provide: DataSource,
          useFactory: () => {
            const schema = options.schema ?? config.env.DATABASE_SCHEMA;
            return openNotifierDatabase({
              databaseUrl: config.env.DATABASE_URL,
              dataDir: config.env.DATA_DIR,
              ...(schema ? { schema } : {}),
            });
          },
        },
        { provide: OutboxRelay, useFactory: createNotifierRelay, inject: [DataSource, EventPublisher] },
        { provide: Outbox, useFactory: createNotifierOutbox, inject: [DataSource, OutboxRelay] },
        { provide: NOTIFIER_OUTCOME_OUTBOX, useFactory: createOutcomeOutbox, inject: [DataSource, OutboxRelay] },
        OutboxRelayStarter,
        { provide: RecipientRepository, useValue: new RecipientRepository() },
        { provide: PendingEmailRepository, useValue: new PendingEmailRepository() },
        {
          provide: EmailFlagService,
          useFactory: (outbox: Outbox<IdmEvent>, recipients: RecipientRepository, pendingEmails: PendingEmailRepository, clock: Clock) =>
            new EmailFlagService({ outbox, recipients, pendingEmails, clock, rules: config.rules, source: NOTIFIER_SOURCE }),
          inject: [Outbox, RecipientRepository, PendingEmailRepository, Clock],
        },
        {
          provide: DeliveryOutcomeService,
          useFactory: (outbox: Outbox<IdmEvent>, pendingEmails: PendingEmailRepository) =>
            new DeliveryOutcomeService(outbox, pendingEmails),
          inject: [NOTIFIER_OUTCOME_OUTBOX, PendingEmailRepository],
        },
        {
          provide: TickDeliveryService,
          useFactory: (
            dataSource: DataSource,
            pendingEmails: PendingEmailRepository,
            recipients: RecipientRepository,
            transport: MailTransport,
            outcomes: DeliveryOutcomeService,
            clock: Clock,
          ) =>
            new TickDeliveryService(
              { dataSource, pendingEmails, recipients, transport, templates: options.templates, outcomes, clock },
              {
                limits: config.limits,
                sendConcurrency: config.sendConcurrency,
                lease: config.lease,
                instanceId: lease.instanceId,
                from: config.smtp.from,
                source: NOTIFIER_SOURCE,
              },
            ),
          inject: [DataSource, PendingEmailRepository, RecipientRepository, MailTransport, DeliveryOutcomeService, Clock],
        },
        NotifierStatusResponder,
        InstanceLeaseService,
        ResourceCloser,
      ],
    };
  }
}
