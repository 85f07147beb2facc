import { appVersion } from '@idm/config';
import { CommandSubjects, type DirectorySourceStatusReply } from '@idm/contracts';
import { NATS_CONNECTION, serveRequests } from '@idm/messaging';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PollLoop } from '../poller/poll-loop.js';
import { SnapshotRepository } from '../snapshot/snapshot.repository.js';

/** Queue group: one replica answers each query (there is one replica; see the README). */
const DIRECTORY_SOURCE_STATUS_QUEUE = 'idm-directory-source';

/**
 * Answers `idm.cmd.directory-source.status` (core-NATS request/reply), as every app answers its
 * status subject, so `idm status` and the console list the source: the snapshot's size, when the
 * last poll committed, and how the poll loop is doing. Read-only; never the bind password (a
 * failed poll's reason is the one-line message the log shows).
 */
@Injectable()
export class DirectorySourceStatusResponder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DirectorySourceStatus');
  private subscription: Subscription | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SnapshotRepository) private readonly snapshot: SnapshotRepository,
    @Inject(PollLoop) private readonly loop: PollLoop,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = serveRequests(
      this.nc,
      CommandSubjects.DirectorySourceStatus,
      DIRECTORY_SOURCE_STATUS_QUEUE,
      () => this.status(),
      this.logger,
    );
  }

  beforeApplicationShutdown(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private async status(): Promise<DirectorySourceStatusReply> {
    const [snapshotUsers, lastCommittedAt] = await Promise.all([this.snapshot.count(), this.snapshot.lastCommittedAt()]);
    const { consecutiveFailures, lastError, lastSuccessAt } = this.loop.state;
    return {
      ok: true,
      version: appVersion(),
      snapshotUsers,
      lastCommittedAt: lastCommittedAt?.toISOString() ?? null,
      lastSuccessAt: lastSuccessAt?.toISOString() ?? null,
      consecutiveFailures,
      lastError,
    };
  }
}
