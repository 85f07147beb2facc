import { errorMessage } from '@idm/config';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '@idm/config';
import type { NotifierConfig } from '../notifier.config.js';
import { NOTIFIER_CONFIG, NOTIFIER_INSTANCE_LEASE } from '../notifier.tokens.js';
import type { InstanceLease } from './instance-lease.repository.js';
import { InstanceLeaseRepository } from './instance-lease.repository.js';

/** Lapsed leases are kept this long (for `idm status` and post-mortems), then purged at a start. */
const PURGE_AFTER_MS = 24 * 3_600_000;

/**
 * Holds this process's lease in `notifier_instance`: taken at start (before the transport pulls
 * the first tick), renewed every `NOTIFIER_LEASE_HEARTBEAT_SECONDS`, and left to lapse on a clean
 * shutdown. Nothing to release then: by that time every run has finished, each stored outcome
 * cleared or released its email's claim in the same commit, and the run gave back what it did not
 * send; the lapsed lease frees any rest. While the heartbeat fails (database down) the lease may lapse and other replicas
 * take this instance's claims; that is safe, because a run renews each claim by its token right
 * before sending and skips the emails it lost.
 */
@Injectable()
export class InstanceLeaseService implements OnApplicationBootstrap {
  private readonly logger = new Logger('InstanceLease');
  private readonly repository = new InstanceLeaseRepository();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    @Inject(NOTIFIER_INSTANCE_LEASE) private readonly lease: InstanceLease,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const now = this.clock.now();
    const released = await this.repository.register(this.dataSource, this.lease, now, new Date(now.getTime() - PURGE_AFTER_MS));
    this.logger.log(
      `instance ${this.lease.instanceId}: lease ${this.config.lease.leaseTimeoutMs / 1000} s, heartbeat every ${this.config.lease.heartbeatMs / 1000} s` +
        (released > 0 ? `; released ${released} claims of this instance's previous run` : ''),
    );
    this.timer = setInterval(() => {
      this.beating = this.beat();
    }, this.config.lease.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the heartbeat (the lease then lapses); call before the database is closed. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
  }

  private async beat(): Promise<void> {
    try {
      const result = await this.repository.heartbeat(this.dataSource, this.lease, this.clock.now());
      if (result === 'restored') this.logger.warn(`lease row of instance ${this.lease.instanceId} was missing; written again`);
      if (result === 'taken-over') {
        this.logger.error(
          `another notifier started with NOTIFIER_INSTANCE_ID=${this.lease.instanceId}: instance ids must be unique per running replica`,
        );
      }
    } catch (err) {
      this.logger.warn(
        `lease heartbeat failed (claims lapse after ${this.config.lease.leaseTimeoutMs / 1000} s without one): ${errorMessage(err)}`,
      );
    }
  }
}
