import { appVersion } from '@idm/config';
import { CommandSubjects, type DirectorySourceStatusReply } from '@idm/contracts';
import { NATS_CONNECTION, RequestResponders } from '@idm/messaging';
import type { NatsConnection } from '@nats-io/nats-core';
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
  private readonly responders: RequestResponders;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(SnapshotRepository) private readonly snapshot: SnapshotRepository,
    @Inject(PollLoop) private readonly loop: PollLoop,
  ) {
    this.responders = new RequestResponders(nc, DIRECTORY_SOURCE_STATUS_QUEUE, new Logger('DirectorySourceStatus'));
  }

  onApplicationBootstrap(): void {
    this.responders.serve(CommandSubjects.DirectorySourceStatus, () => this.status());
  }

  /** Stops taking requests; those in flight are answered before the connection drains. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.responders.close();
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
