import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '@idm/persistence';

/**
 * Row of `pending_email`: one per (user, email type) still to be sent. Rows are deleted by the
 * transaction that stores `EmailSent` / `EmailAbandoned`, so the table only ever holds pending work and a
 * tick's scan grows with the pending emails, not with the users.
 */
@Entity({ name: 'pending_email' })
@Index('IDX_pending_email_claimed_at', ['claimedAt'])
@Index('IDX_pending_email_claim_token', ['claimToken'])
@Index('IDX_pending_email_claim_owner', ['claimOwner'])
export class PendingEmailEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 256 })
  userId!: string;

  @PrimaryColumn({ name: 'email_type', type: 'varchar', length: 64 })
  emailType!: string;

  @Column({ name: 'queued_event_id', type: 'varchar', length: 64 })
  queuedEventId!: string;

  @Column(timestampColumn({ name: 'queued_at' }))
  queuedAt!: Date;

  @Column(timestampColumn({ name: 'first_queued_at' }))
  firstQueuedAt!: Date;

  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** The claiming tick: the recipe's "bulk task indicator". */
  @Column({ name: 'claimed_tick', type: 'varchar', length: 200, nullable: true })
  claimedTick!: string | null;

  @Column(timestampColumn({ name: 'claimed_at', nullable: true }))
  claimedAt!: Date | null;

  @Column({ name: 'claim_token', type: 'varchar', length: 64, nullable: true })
  claimToken!: string | null;

  /**
   * The notifier instance (`notifier_instance.instance_id`) whose run holds the claim; the claim
   * lapses with that instance's lease. Null when unclaimed, or for claims from before leases.
   */
  @Column({ name: 'claim_owner', type: 'varchar', length: 64, nullable: true })
  claimOwner!: string | null;

  /** JSON object of template values captured from the causing event. */
  @Column({ name: 'context', type: 'text', default: '{}' })
  context!: string;
}
