import { errorMessage } from '@idm/config';
import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { DataSource } from 'typeorm';
import type { IdmEvent } from '@idm/contracts';
import { EventPublisher, MessagingModule, NATS_CONNECTION, type MessagingConfig } from '@idm/messaging';
import { logOutboxRelayReports, onPostgres, Outbox, OutboxRelay } from '@idm/persistence';
import { PasswordSweeper } from './expiry/password-sweeper.js';
import { PasswordChangeResponder } from './password-change/password-change.responder.js';
import { CacheKeyResealer } from './password-cache/cache-key-resealer.js';
import { PasswordCacheRepository } from './password-cache/password-cache.repository.js';
import { PasswordCacheService } from './password-cache/password-cache.service.js';
import { openPasswordSyncDatabase } from './password-sync.database.js';
import { PasswordSealer } from './password-cache/sealed-secret.js';
import { Clock, SystemClock } from '@idm/config';
import type { PasswordSyncConfig } from './password-sync.config.js';
import { PASSWORD_SYNC_CONFIG, PASSWORD_SYNC_CONSUMER } from './password-sync.tokens.js';
import { LdapPasswordTarget } from './targets/ldap-password-target.js';
import { PasswordTarget, PasswordTargetConfigError } from './targets/password-target.js';
import { targetFromUrl } from './targets/target-from-url.js';
import { PasswordSyncStatusResponder } from './status/password-sync-status.responder.js';
import { UserEventsHandler } from './user-events/user-events.handler.js';

/**
 * Units of work committed together at most (group commit). Above the responder's and the
 * transport's concurrency, so a batch is bounded by what is in flight.
 */
const OUTBOX_MAX_BATCH = 256;
/**
 * How long a batch waits for more units before it starts, by engine. Needed on SQLite:
 * better-sqlite3 is synchronous, so a transaction runs from BEGIN to COMMIT (and its fsync)
 * without yielding to the event loop, and the units whose directory answers are waiting in it
 * would otherwise each get a transaction of their own (1 unit per commit without a linger). 4 ms,
 * not 1: 3,000 changes (6,000 units) took ~1,400 commits with 1 ms, ~750 with 4 ms and ~550
 * with 8 ms, and password-sync's CPU per password fell by ~10 % from 1 to 4 ms (no further at
 * 8 ms); the added latency is small beside an LDAP round trip. Postgres keeps 1 ms (not measured).
 */
const OUTBOX_LINGER_MS = { sqlite: 4, postgres: 1 } as const;

/** What the app is built from; `main.ts` reads it from the environment, specs pass it. */
export interface PasswordSyncModuleOptions {
  readonly config: PasswordSyncConfig;
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
    @Inject(OutboxRelay) private readonly relay: OutboxRelay<IdmEvent>,
  ) {}
  /** After the transport and the responder have stopped: nothing uses them any more. */
  async onApplicationShutdown(): Promise<void> {
    await this.target.close();
    await this.relay.stop();
    // Best effort (the connection may be draining already): what is left is published at the next start.
    await this.relay.drainOnce().catch(() => undefined);
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
    const { config } = options;
    return {
      module: PasswordSyncModule,
      imports: [MessagingModule.forRoot({ serviceName: 'password-sync', ...(options.messaging ? { config: options.messaging } : {}) })],
      controllers: [UserEventsHandler],
      providers: [
        { provide: PASSWORD_SYNC_CONFIG, useValue: config },
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
        {
          provide: DataSource,
          useFactory: () => openPasswordSyncDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.schema }),
        },
        { provide: PasswordSealer, useFactory: () => new PasswordSealer(config.key.key, config.key.previous ?? []) },
        { provide: PasswordCacheRepository, useValue: new PasswordCacheRepository() },
        {
          provide: OutboxRelay,
          useFactory: async (dataSource: DataSource, publisher: EventPublisher) => {
            // Failed rounds are retried with backoff and logged at a bounded rate.
            const relay = new OutboxRelay<IdmEvent>(dataSource, publisher, { onReport: logOutboxRelayReports(new Logger('OutboxRelay')) });
            // Before anything is handled: first publishes what a crash left in the outbox.
            await relay.start();
            return relay;
          },
          inject: [DataSource, EventPublisher],
        },
        {
          provide: Outbox,
          useFactory: (dataSource: DataSource, relay: OutboxRelay<IdmEvent>) => {
            const lingerMs = onPostgres(dataSource) ? OUTBOX_LINGER_MS.postgres : OUTBOX_LINGER_MS.sqlite;
            const outbox = new Outbox<IdmEvent>(dataSource, { groupCommit: { maxBatch: OUTBOX_MAX_BATCH, lingerMs } });
            outbox.onCommitted(() => relay.wake());
            // The relay's deletes of published rows ride in these commits: on SQLite each delete
            // of its own was a commit and an fsync on the event loop, one per relay round
            // (profiled: 2,566 of them for 6,000 passwords, 40 % of the time spent in SQLite).
            outbox.carry(relay);
            return outbox;
          },
          inject: [DataSource, OutboxRelay],
        },
        {
          provide: PasswordTarget,
          useFactory: async (nc: NatsConnection) => {
            const logger = new Logger('PasswordTarget');
            const target = targetFromUrl(config.target, { nats: nc, logger });
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
            outbox: Outbox<IdmEvent>,
            clock: Clock,
          ) =>
            new PasswordCacheService({
              dataSource,
              repository,
              sealer,
              target,
              outbox,
              clock,
              policy: config.policy,
              logger: new Logger('PasswordCache'),
              consumer: PASSWORD_SYNC_CONSUMER,
              ...(config.firstAttemptGraceMs !== undefined ? { firstAttemptGraceMs: config.firstAttemptGraceMs } : {}),
            }),
          inject: [DataSource, PasswordCacheRepository, PasswordSealer, PasswordTarget, Outbox, Clock],
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
