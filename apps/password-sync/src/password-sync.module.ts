import { errorMessage } from '@idm/config';
import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { DataSource } from 'typeorm';
import { EventPublisher, MessagingModule, NATS_CONNECTION, type MessagingConfig } from '@idm/messaging';
import { PasswordSweeper } from './expiry/password-sweeper.js';
import { PasswordChangeResponder } from './password-change/password-change.responder.js';
import { CacheKeyResealer } from './password-cache/cache-key-resealer.js';
import { PasswordCacheRepository } from './password-cache/password-cache.repository.js';
import { PasswordCacheService } from './password-cache/password-cache.service.js';
import { openPasswordDatabase } from './password-cache/password-database.js';
import { PasswordSealer } from './password-cache/sealed-secret.js';
import { Clock, SystemClock } from './shell/clock.js';
import type { PasswordSyncSettings } from './shell/password-sync.config.js';
import { PASSWORD_SYNC_SETTINGS } from './shell/tokens.js';
import { LdapPasswordTarget } from './targets/ldap-password-target.js';
import { PasswordTarget, PasswordTargetConfigError } from './targets/password-target.js';
import { targetFromUrl } from './targets/target-from-url.js';
import { PasswordSyncStatusResponder } from './status/password-sync-status.responder.js';
import { UserEventsHandler } from './user-events/user-events.handler.js';

/** Durable consumer and inbox name of the user-event handler. */
export const PASSWORD_SYNC_CONSUMER = 'password-sync';

/** What the app is built from; `main.ts` reads it from the environment, specs pass it. */
export interface PasswordSyncModuleOptions {
  readonly settings: PasswordSyncSettings;
  /** Explicit messaging settings (specs); default: from the environment. */
  readonly messaging?: MessagingConfig;
  /** A clock to swap in specs; default the system clock. */
  readonly clock?: Clock;
}

@Injectable()
class ResourceCloser implements OnApplicationShutdown {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PasswordTarget) private readonly target: PasswordTarget,
  ) {}
  /** After the transport and the responder have stopped: nothing uses them any more. */
  async onApplicationShutdown(): Promise<void> {
    await this.target.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * password-sync: the `idm.cmd.password.change` responder, the `UserAdded`/`UserModified`
 * handler, and the expiry / outage-retry sweeper, around one {@link PasswordCacheService}.
 */
@Module({})
export class PasswordSyncModule {
  static forRoot(options: PasswordSyncModuleOptions): DynamicModule {
    const { settings } = options;
    return {
      module: PasswordSyncModule,
      imports: [MessagingModule.forRoot({ serviceName: 'password-sync', ...(options.messaging ? { config: options.messaging } : {}) })],
      controllers: [UserEventsHandler],
      providers: [
        { provide: PASSWORD_SYNC_SETTINGS, useValue: settings },
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
        {
          provide: DataSource,
          useFactory: () => openPasswordDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir, schema: settings.schema }),
        },
        { provide: PasswordSealer, useFactory: () => new PasswordSealer(settings.key.key, settings.key.previous ?? []) },
        { provide: PasswordCacheRepository, useValue: new PasswordCacheRepository() },
        {
          provide: PasswordTarget,
          useFactory: async (nc: NatsConnection) => {
            const logger = new Logger('PasswordTarget');
            const target = targetFromUrl(settings.target, { nats: nc, logger });
            target.onConfigurationProblem((problem) => logger.error(`password not applied, fix the target configuration: ${problem}`));
            if (target instanceof LdapPasswordTarget) {
              // Settles the dialect (auto) and refuses AD over plain LDAP now, not at the first password.
              try {
                logger.log(`${target.describe()}: dialect ${await target.prepare()}`);
              } catch (err) {
                if (err instanceof PasswordTargetConfigError) throw err;
                // An unreachable or refusing directory must not stop the start: passwords are cached and retried.
                logger.warn(`could not check ${target.describe()} at start (${errorMessage(err)}); passwords are cached and retried`);
              }
            }
            return target;
          },
          inject: [NATS_CONNECTION],
        },
        {
          provide: PasswordCacheService,
          useFactory: (
            dataSource: DataSource,
            repository: PasswordCacheRepository,
            sealer: PasswordSealer,
            target: PasswordTarget,
            events: EventPublisher,
            clock: Clock,
          ) =>
            new PasswordCacheService({
              dataSource,
              repository,
              sealer,
              target,
              events,
              clock,
              policy: settings.policy,
              logger: new Logger('PasswordCache'),
              consumer: PASSWORD_SYNC_CONSUMER,
              ...(settings.firstAttemptGraceMs !== undefined ? { firstAttemptGraceMs: settings.firstAttemptGraceMs } : {}),
            }),
          inject: [DataSource, PasswordCacheRepository, PasswordSealer, PasswordTarget, EventPublisher, Clock],
        },
        PasswordChangeResponder,
        PasswordSweeper,
        CacheKeyResealer,
        PasswordSyncStatusResponder,
        ResourceCloser,
      ],
    };
  }
}
