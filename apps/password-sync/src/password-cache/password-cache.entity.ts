import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '@idm/persistence';

/**
 * The condition of `password_cache_first_attempt`: accepted passwords with no recorded attempt
 * (the sweeper's "accepted but never attempted" query reads only these rows).
 */
export const FIRST_ATTEMPT_INDEX_WHERE = `state = 'cached' AND attempts = 0 AND last_reason IS NULL`;

/**
 * One row per user. The sealed secret (ciphertext, nonce, tag, key id) is present only while the
 * state is `cached`; on sync, expiry or discard it is overwritten with NULL in the same UPDATE
 * that changes the state, never merely flagged.
 * Binary parts are stored as base64 text so one migration fits Postgres and SQLite.
 */
@Entity({ name: 'password_cache' })
@Index('password_cache_expiry', ['state', 'expiresAt'])
@Index('password_cache_retry', ['state', 'nextRetryAt'])
@Index('password_cache_first_attempt', ['cachedAt'], { where: FIRST_ATTEMPT_INDEX_WHERE })
export class PasswordCacheRow {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 256 })
  userId!: string;

  /** `cached` | `synced` | `expired` | `discarded`. */
  @Column({ name: 'state', type: 'varchar', length: 16 })
  state!: string;

  /** `source` | `vault`. */
  @Column({ name: 'origin', type: 'varchar', length: 16 })
  origin!: string;

  @Column({ name: 'ciphertext', type: 'text', nullable: true })
  ciphertext!: string | null;

  @Column({ name: 'nonce', type: 'varchar', length: 32, nullable: true })
  nonce!: string | null;

  @Column({ name: 'tag', type: 'varchar', length: 32, nullable: true })
  tag!: string | null;

  @Column({ name: 'key_id', type: 'varchar', length: 32, nullable: true })
  keyId!: string | null;

  @Column(timestampColumn({ name: 'changed_at' }))
  changedAt!: Date;

  @Column(timestampColumn({ name: 'cached_at' }))
  cachedAt!: Date;

  /** NULL = never (PASSWORD_EXPIRATION_MINUTES=-1), or no longer cached. */
  @Column(timestampColumn({ name: 'expires_at', nullable: true }))
  expiresAt!: Date | null;

  @Column({ name: 'attempts', type: 'integer' })
  attempts!: number;

  @Column({ name: 'unavailable_streak', type: 'integer' })
  unavailableStreak!: number;

  @Column({ name: 'last_reason', type: 'varchar', length: 32, nullable: true })
  lastReason!: string | null;

  @Column({ name: 'last_message', type: 'text', nullable: true })
  lastMessage!: string | null;

  /** Set only after `target-unavailable`: when the sweeper retries. */
  @Column(timestampColumn({ name: 'next_retry_at', nullable: true }))
  nextRetryAt!: Date | null;

  /** When the row left `cached` (synced / expired / discarded). */
  @Column(timestampColumn({ name: 'settled_at', nullable: true }))
  settledAt!: Date | null;
}
