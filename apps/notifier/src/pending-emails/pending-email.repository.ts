import { type DataSource, type EntityManager } from 'typeorm';
import { runInTransaction } from '@idm/persistence';
import type { PendingEmail } from './pending-email.js';
import { PendingEmailEntity } from './pending-email.entity.js';

type Target = DataSource | EntityManager;

function toPending(row: PendingEmailEntity): PendingEmail {
  return {
    userId: row.userId,
    emailType: row.emailType,
    queuedEventId: row.queuedEventId,
    queuedAt: row.queuedAt,
    firstQueuedAt: row.firstQueuedAt,
    attempts: row.attempts,
    lastError: row.lastError,
    claimedTick: row.claimedTick,
    claimedAt: row.claimedAt,
    claimToken: row.claimToken,
    context: JSON.parse(row.context) as Record<string, string>,
  };
}

function toRow(p: PendingEmail): PendingEmailEntity {
  return Object.assign(new PendingEmailEntity(), { ...p, context: JSON.stringify(p.context) });
}

/** One claim request: the tick, a token unique to this run, and when older claims count as abandoned. */
export interface ClaimRequest {
  readonly tickId: string;
  readonly token: string;
  readonly now: Date;
  /** Claims taken before this instant are expired (their run died) and may be taken over. */
  readonly expiredBefore: Date;
}

/** Reads and writes `pending_email`, including the claim that stops two runs sending one email. */
export class PendingEmailRepository {
  async find(target: Target, userId: string, emailType: string): Promise<PendingEmail | undefined> {
    const row = await target.getRepository(PendingEmailEntity).findOneBy({ userId, emailType });
    return row ? toPending(row) : undefined;
  }

  /** The email types pending for a user. */
  async typesFor(target: Target, userId: string): Promise<Set<string>> {
    const rows = await target.getRepository(PendingEmailEntity).find({ select: { emailType: true }, where: { userId } });
    return new Set(rows.map((r) => r.emailType));
  }

  /** Inserts or replaces a row; call inside the handler's transaction. */
  async save(manager: EntityManager, pending: PendingEmail): Promise<void> {
    await manager.getRepository(PendingEmailEntity).save(toRow(pending));
  }

  /** Deletes the row of (user, email type) if there is one; true when a row was deleted. */
  async delete(manager: EntityManager, userId: string, emailType: string): Promise<boolean> {
    const result = await manager.getRepository(PendingEmailEntity).delete({ userId, emailType });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Claims, in one conditional UPDATE, every pending email that is unclaimed or whose claim
   * expired, for this run. Two concurrent runs (an overlapping tick, another replica) can never
   * both claim a row: the UPDATE re-checks the condition under the row lock (Postgres) or the
   * database write lock (SQLite). Returns the number claimed; read them with {@link claimed}.
   */
  async claim(dataSource: DataSource, request: ClaimRequest): Promise<number> {
    return runInTransaction(dataSource, async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(PendingEmailEntity)
        .set({ claimedTick: request.tickId, claimedAt: request.now, claimToken: request.token })
        .where('claimed_tick IS NULL OR claimed_at IS NULL OR claimed_at < :expiredBefore', { expiredBefore: request.expiredBefore.toISOString() })
        .execute();
      return result.affected ?? 0;
    });
  }

  /** The rows claimed by one run, oldest first. */
  async claimed(target: Target, token: string): Promise<PendingEmail[]> {
    const rows = await target.getRepository(PendingEmailEntity).find({ where: { claimToken: token }, order: { firstQueuedAt: 'ASC', userId: 'ASC', emailType: 'ASC' } });
    return rows.map(toPending);
  }

  /**
   * Renews this run's claim on one email right before sending. False when the claim was lost
   * (expired and taken over by another run, or the row was cleared): the caller must not send.
   * This keeps the expiry meaningful per email even when draining a large tick takes long.
   */
  async renewClaim(dataSource: DataSource, pending: PendingEmail, token: string, now: Date): Promise<boolean> {
    // One conditional UPDATE is atomic by itself: no BEGIN/COMMIT round trips on the per-email path.
    const result = await dataSource
      .createQueryBuilder()
      .update(PendingEmailEntity)
      .set({ claimedAt: now })
      .where('user_id = :userId AND email_type = :emailType AND claim_token = :token', { userId: pending.userId, emailType: pending.emailType, token })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /**
   * Renews this run's claims on several distinct emails in one conditional UPDATE (the emails a send lane
   * is about to send). True only when every one of them was still this run's; otherwise some
   * claim was lost and the caller must check each email with {@link renewClaim} before sending.
   */
  async renewClaims(dataSource: DataSource, pending: readonly PendingEmail[], token: string, now: Date): Promise<boolean> {
    if (pending.length === 0) return true;
    const keys = pending.map((p) => ({ userId: p.userId, emailType: p.emailType }));
    const result = await dataSource
      .createQueryBuilder()
      .update(PendingEmailEntity)
      .set({ claimedAt: now })
      .whereInIds(keys)
      .andWhere('claim_token = :token', { token })
      .execute();
    return (result.affected ?? 0) === keys.length;
  }
}
