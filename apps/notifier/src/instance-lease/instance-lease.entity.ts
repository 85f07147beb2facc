import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '@idm/persistence';

/**
 * Row of `notifier_instance`: one per running notifier process, renewed by its heartbeat. A
 * claim on a pending email is only as good as its owner's lease: once the heartbeat is older
 * than the lease timeout, the next tick of any replica takes the claim over.
 */
@Entity({ name: 'notifier_instance' })
export class InstanceLeaseEntity {
  @PrimaryColumn({ name: 'instance_id', type: 'varchar', length: 64 })
  instanceId!: string;

  /** Random per process start: tells a restarted instance (same id) from its previous life. */
  @Column({ name: 'incarnation', type: 'varchar', length: 64 })
  incarnation!: string;

  @Column(timestampColumn({ name: 'started_at' }))
  startedAt!: Date;

  @Column(timestampColumn({ name: 'heartbeat_at' }))
  heartbeatAt!: Date;
}
