import { SystemClock } from '@idm/config';
import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventPublisher, MessagingModule, type MessagingConfig } from '@idm/messaging';
import type { DirectorySourceConfig } from './directory-source.config.js';
import { openDirectorySourceDatabase } from './directory-source.database.js';
import { DIRECTORY_SOURCE_CONFIG } from './directory-source.tokens.js';
import { DirectoryReader } from './directory/directory-reader.js';
import { LdapDirectoryReader } from './directory/ldap-directory-reader.js';
import { PollLoop } from './poller/poll-loop.js';
import { PollService } from './poller/poll.service.js';
import { SnapshotRepository } from './snapshot/snapshot.repository.js';
import { DirectorySourceStatusResponder } from './status/directory-source-status.responder.js';

/** What the app is built from; `main.ts` reads it from the environment, specs pass it. */
export interface DirectorySourceModuleOptions {
  readonly config: DirectorySourceConfig;
  /** Explicit messaging settings (specs); default: from the environment. */
  readonly messaging?: MessagingConfig;
  /** A directory to swap in specs; default LDAP from the config. */
  readonly reader?: DirectoryReader;
}

/** On shutdown: stops the poll loop (a poll in flight finishes) and closes the database. `main.ts` starts the loop once metrics are wired. */
@Injectable()
class Lifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(PollLoop) private readonly loop: PollLoop,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * The directory source: a poll loop over the directory, publishing `UserAdded` / `UserModified` /
 * `UserRemoved`, and answering its status query. It consumes nothing; its only state is the
 * snapshot and the checkpoint.
 */
@Module({})
export class DirectorySourceModule {
  static forRoot(options: DirectorySourceModuleOptions): DynamicModule {
    const { config } = options;
    return {
      module: DirectorySourceModule,
      imports: [MessagingModule.forRoot({ serviceName: 'directory-source', ...(options.messaging ? { config: options.messaging } : {}) })],
      providers: [
        { provide: DIRECTORY_SOURCE_CONFIG, useValue: config },
        {
          provide: DataSource,
          useFactory: () =>
            openDirectorySourceDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.schema }),
        },
        { provide: SnapshotRepository, useFactory: (ds: DataSource) => new SnapshotRepository(ds), inject: [DataSource] },
        { provide: DirectoryReader, useValue: options.reader ?? new LdapDirectoryReader(config.ldap) },
        {
          provide: PollService,
          useFactory: (reader: DirectoryReader, snapshot: SnapshotRepository, events: EventPublisher) =>
            new PollService({ reader, snapshot, events, clock: new SystemClock(), logger: new Logger('DirectorySource') }, config.poll),
          inject: [DirectoryReader, SnapshotRepository, EventPublisher],
        },
        {
          provide: PollLoop,
          useFactory: (service: PollService) =>
            new PollLoop(
              service,
              { intervalMs: config.intervalMs, unreadyAfter: config.unreadyAfterFailures },
              new Logger('DirectorySource'),
            ),
          inject: [PollService],
        },
        DirectorySourceStatusResponder,
        Lifecycle,
      ],
    };
  }
}
