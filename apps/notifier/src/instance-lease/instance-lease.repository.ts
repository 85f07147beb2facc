import type { DataSource } from 'typeorm';
import { runInTransaction } from '@idm/persistence';
import { PendingEmailEntity } from '../pending-emails/pending-email.entity.js';
import { InstanceLeaseEntity } from './instance-lease.entity.js';

/** One process's lease: a stable or random instance id, and a random id of this start. */
export interface InstanceLease {
  readonly instanceId: string;
  readonly incarnation: string;
}

/** What a heartbeat found. */
export type HeartbeatResult =
  /** The lease was renewed. */
  | 'renewed'
  /** The row was gone (purged after a long stall, or deleted by hand): it was written again. */
  | 'restored'
  /** Another process started with the same instance id and took the lease over. */
  | 'taken-over';

/** Reads and writes `notifier_instance`, and releases claims by owner. */
export class InstanceLeaseRepository {
  /**
   * Takes the lease at start. Every claim already stamped with this instance id belongs to a
   * previous life of this instance (no run of this process has started yet), so it is released
   * at once: a restarted instance with a stable id does not wait for its own lease to lapse.
   * (An email of that life sent but whose outcome was not yet stored is then sent once more, with
   * the same Message-ID: the at-least-once case of a crash.)
   * Leases that lapsed more than `purgeBefore` ago are deleted. Returns the claims released.
   */
  async register(dataSource: DataSource, lease: InstanceLease, now: Date, purgeBefore: Date): Promise<number> {
    return runInTransaction(dataSource, async (manager) => {
      const released = await manager
        .createQueryBuilder()
        .update(PendingEmailEntity)
        .set({ claimedTick: null, claimedAt: null, claimToken: null, claimOwner: null })
        .where('claim_owner = :owner', { owner: lease.instanceId })
        .execute();
      const leases = manager.getRepository(InstanceLeaseEntity);
      await leases.createQueryBuilder().delete().where('heartbeat_at < :before', { before: purgeBefore.toISOString() }).execute();
      await leases.save(Object.assign(new InstanceLeaseEntity(), { ...lease, startedAt: now, heartbeatAt: now }));
      return released.affected ?? 0;
    });
  }

  /** Renews the lease. Never takes a lease back from a process that took this id over. */
  async heartbeat(dataSource: DataSource, lease: InstanceLease, now: Date): Promise<HeartbeatResult> {
    const leases = dataSource.getRepository(InstanceLeaseEntity);
    const renewed = await leases
      .createQueryBuilder()
      .update()
      .set({ heartbeatAt: now })
      .where('instance_id = :id AND incarnation = :incarnation', { id: lease.instanceId, incarnation: lease.incarnation })
      .execute();
    if ((renewed.affected ?? 0) > 0) return 'renewed';
    // Insert only if absent: a concurrent insert by the process that took the id over wins.
    await leases
      .createQueryBuilder()
      .insert()
      .values({ ...lease, startedAt: now, heartbeatAt: now })
      .orIgnore()
      .execute();
    const current = await leases.findOneBy({ instanceId: lease.instanceId });
    return current?.incarnation === lease.incarnation ? 'restored' : 'taken-over';
  }

  /** Every lease row (status, specs). */
  async all(dataSource: DataSource): Promise<InstanceLeaseEntity[]> {
    return dataSource.getRepository(InstanceLeaseEntity).find({ order: { instanceId: 'ASC' } });
  }
}
