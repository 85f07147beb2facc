import { type DataSource, type EntityManager, type UpdateQueryBuilder } from 'typeorm';
import { runInTransaction } from '@idm/persistence';
import type { PendingEmail, PendingEmailKey } from './pending-email.js';
import { PendingEmailEntity } from './pending-email.entity.js';
import {
  deleteClaimedPending,
  deletePendingByKeys,
  selectClaimedPending,
  selectPendingByKeys,
  selectPendingOfUsers,
  updateClaimedPending,
  type PendingEmailClaim,
} from './pending-email-keys.statements.js';
import { selectPendingTypes, upsertPendingEmails } from './pending-email.statements.js';

type Target = DataSource | EntityManager;

/** One string per (user, email type), for sets and maps of pending emails. */
export function pendingKeyOf(key: PendingEmailKey): string {
  return `${key.userId}\u0000${key.emailType}`;
}

/**
 * The ranges of `claim_owner` outside `live` sorted owners (parameters `:live0`…): below the first,
 * between each two, above the last; every owner when none is live. Each is one index range.
 */
function ownerGaps(live: number): string[] {
  if (live === 0) return ['claim_owner IS NOT NULL'];
  const gaps = ['claim_owner < :live0'];
  for (let i = 1; i < live; i++) gaps.push(`(claim_owner > :live${i - 1} AND claim_owner < :live${i})`);
  gaps.push(`claim_owner > :live${live - 1}`);
  return gaps;
}

/** One claim request: the tick, a token unique to this run, its instance, and when other claims count as abandoned. */
export interface ClaimRequest {
  readonly tickId: string;
  readonly token: string;
  /** The instance running the claim (`notifier_instance.instance_id`); its lease guards the claims. */
  readonly owner: string;
  readonly now: Date;
  /** Claims renewed before this instant are expired whoever holds them (a hung run) and may be taken over. */
  readonly expiredBefore: Date;
  /** Owners whose heartbeat is older than this are dead: their claims may be taken over. */
  readonly lapsedBefore: Date;
}

/** Reads and writes `pending_email`, including the claim that stops two runs sending one email. */
export class PendingEmailRepository {
  async find(target: Target, userId: string, emailType: string): Promise<PendingEmail | undefined> {
    const [pending] = await selectPendingByKeys(target, [{ userId, emailType }]);
    return pending;
  }

  /** Every email pending for `userId`, by email type: one query (a removal reads them all). */
  async allFor(target: Target, userId: string): Promise<PendingEmail[]> {
    const pending = await selectPendingOfUsers(target, [userId]);
    return pending.sort((a, b) => (a.emailType < b.emailType ? -1 : a.emailType > b.emailType ? 1 : 0));
  }

  /** When the oldest pending email was first flagged (null when none is pending): the backlog's age. */
  async oldestFirstQueuedAt(target: Target): Promise<Date | null> {
    const [oldest] = await target
      .getRepository(PendingEmailEntity)
      .find({ select: { userId: true, emailType: true, firstQueuedAt: true }, order: { firstQueuedAt: 'ASC' }, take: 1 });
    return oldest?.firstQueuedAt ?? null;
  }

  /** The email types pending for a user. */
  async typesFor(target: Target, userId: string): Promise<Set<string>> {
    const rows = await target.getRepository(PendingEmailEntity).find({ select: { emailType: true }, where: { userId } });
    return new Set(rows.map((r) => r.emailType));
  }

  /** The email types pending for each of many users (users with none are absent), a few queries for a batch. */
  async typesForMany(target: Target, userIds: readonly string[]): Promise<Map<string, Set<string>>> {
    return selectPendingTypes(target, userIds);
  }

  /**
   * Inserts or replaces rows (newly raised flags, kept outcomes), one statement per chunk (group
   * commit); call inside the transaction. The only write of whole rows: a claim's owner follows the
   * claim (a released claim has none, a kept one keeps the stored owner), see `upsertPendingEmails`.
   */
  async saveMany(manager: EntityManager, pending: readonly PendingEmail[]): Promise<void> {
    await upsertPendingEmails(manager, pending);
  }

  /** Deletes the row of (user, email type) if there is one; true when a row was deleted. */
  async delete(manager: EntityManager, userId: string, emailType: string): Promise<boolean> {
    const result = await manager.getRepository(PendingEmailEntity).delete({ userId, emailType });
    return (result.affected ?? 0) > 0;
  }

  /** Deletes the rows of these keys (present or not), one statement (Postgres); call inside the transaction. */
  async deleteKeys(manager: EntityManager, keys: readonly PendingEmailKey[]): Promise<void> {
    await deletePendingByKeys(manager, keys);
  }

  /**
   * Deletes the rows of these claims that still carry the claim's token, one statement (Postgres);
   * call inside the transaction. Returns the keys deleted: any other key had no row, or another
   * claim (or none) now.
   */
  async deleteClaimed(manager: EntityManager, claims: readonly PendingEmailClaim[]): Promise<PendingEmailKey[]> {
    return deleteClaimedPending(manager, claims);
  }

  /**
   * The rows of these keys (absent keys are missing from the map), one statement (Postgres). With
   * `lock` the rows are locked until the transaction ends (`FOR UPDATE` on Postgres; SQLite
   * transactions take turns anyway), so what the caller decides from them still holds when it writes.
   */
  async findMany(manager: EntityManager, keys: readonly PendingEmailKey[], lock = false): Promise<Map<string, PendingEmail>> {
    const out = new Map<string, PendingEmail>();
    for (const pending of await selectPendingByKeys(manager, keys, lock)) out.set(pendingKeyOf(pending), pending);
    return out;
  }

  /**
   * Claims, in one conditional UPDATE, every pending email that is free for this run: unclaimed,
   * claimed by an instance whose lease lapsed (or that has no lease row any more), or claimed
   * longer ago than the claim TTL (see `isClaimFree`, of which this is the SQL form). Two
   * concurrent runs (an overlapping tick, another replica) can never both claim a row: the UPDATE
   * re-checks the condition under the row lock (Postgres) or the database write lock (SQLite).
   * Returns the number claimed; read them with {@link claimed}.
   *
   * Its cost follows the free rows, not the table: every arm of the condition is a range on an
   * index (claim token, claimed-at, claim owner), so rows held by live runs — a replica draining a
   * large backlog — are never read (`pending-email-claim-plan.int-spec.ts` checks the plans). For
   * that the live owners are read first, in the database's own order, and the owner arm is the
   * gaps between them; it still re-checks each owner's lease, so an instance that started in
   * between keeps its claims.
   */
  async claim(dataSource: DataSource, request: ClaimRequest): Promise<number> {
    return runInTransaction(dataSource, async (manager) => {
      const result = await (await this.claimStatement(manager, request)).execute();
      return result.affected ?? 0;
    });
  }

  /** The UPDATE of {@link claim}, built after reading the live owners; exposed so its plan can be checked. */
  async claimStatement(manager: EntityManager, request: ClaimRequest): Promise<UpdateQueryBuilder<PendingEmailEntity>> {
    const lapsedBefore = request.lapsedBefore.toISOString();
    const live: Array<{ instance_id: string }> = await manager
      .createQueryBuilder()
      .select('instance_id')
      .from('notifier_instance', 'notifier_instance')
      .where('heartbeat_at >= :lapsedBefore', { lapsedBefore })
      .orderBy('instance_id')
      .getRawMany();
    const ownerLapsed =
      'NOT EXISTS (SELECT 1 FROM notifier_instance WHERE notifier_instance.instance_id = claim_owner AND notifier_instance.heartbeat_at >= :lapsedBefore)';
    const params: Record<string, string> = { expiredBefore: request.expiredBefore.toISOString(), lapsedBefore };
    live.forEach((row, i) => (params[`live${i}`] = row.instance_id));
    const arms = [
      'claim_token IS NULL',
      'claimed_at IS NULL',
      'claimed_at < :expiredBefore',
      ...ownerGaps(live.length).map((gap) => `(${gap} AND ${ownerLapsed})`),
    ];
    return manager
      .createQueryBuilder()
      .update(PendingEmailEntity)
      .set({ claimedTick: request.tickId, claimedAt: request.now, claimToken: request.token, claimOwner: request.owner })
      .where(arms.join(' OR '), params);
  }

  /**
   * Gives back this run's claims on the given emails (those it did not finish), so the next run —
   * a retried tick, the next tick, another replica — takes them at once instead of waiting for
   * the claim to expire. Emails another run took over meanwhile are left alone (token check).
   * Without `pending`, every claim of the run is released. Returns the number released.
   */
  async release(dataSource: DataSource, token: string, pending?: readonly PendingEmail[]): Promise<number> {
    if (!pending) {
      const result = await dataSource
        .createQueryBuilder()
        .update(PendingEmailEntity)
        .set({ claimedTick: null, claimedAt: null, claimToken: null, claimOwner: null })
        .where('claim_token = :token', { token })
        .execute();
      return result.affected ?? 0;
    }
    return updateClaimedPending(dataSource, pending, token, { claimed_tick: null, claimed_at: null, claim_token: null, claim_owner: null });
  }

  /** The rows claimed by one run, oldest first. */
  async claimed(target: Target, token: string): Promise<PendingEmail[]> {
    return selectClaimedPending(target, token);
  }

  /**
   * Renews this run's claim on one email right before sending. False when the claim was lost
   * (expired and taken over by another run, or the row was cleared): the caller must not send.
   * This keeps the expiry meaningful per email even when draining a large tick takes long.
   */
  async renewClaim(dataSource: DataSource, pending: PendingEmail, token: string, now: Date): Promise<boolean> {
    // One conditional UPDATE is atomic by itself: no BEGIN/COMMIT round trips on the per-email path.
    return this.renewClaims(dataSource, [pending], token, now);
  }

  /**
   * Renews this run's claims on several distinct emails in one conditional UPDATE (a block just ahead of
   * the send lanes). True only when every one of them was still this run's; otherwise some
   * claim was lost and the caller must check each email with {@link renewClaim} before sending.
   */
  async renewClaims(dataSource: DataSource, pending: readonly PendingEmail[], token: string, now: Date): Promise<boolean> {
    if (pending.length === 0) return true;
    return (await updateClaimedPending(dataSource, pending, token, { claimed_at: now.toISOString() })) === pending.length;
  }
}
