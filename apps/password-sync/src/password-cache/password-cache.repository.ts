import { In, IsNull, Not, type EntityManager } from 'typeorm';
import type { PasswordSyncFailureReason } from '@idm/contracts';
import { emptyState, type PasswordCacheState, type PasswordOrigin } from './password-cache.decider.js';
import { PasswordCacheRow } from './password-cache.entity.js';
import type { SealedSecret } from './sealed-secret.js';

/** The cached rows as the alerts see them ({@link PasswordCacheRepository.cachedHealth}). */
export interface CachedHealth {
  readonly earliestExpiresAt: Date | null;
  readonly longestUnavailableStreak: number;
}

/** What {@link PasswordCacheRepository.save} did. */
export type SaveOutcome = 'saved' | 'stale' | 'nothing-to-save';

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());
const date = (s: string | null): Date | null => (s === null ? null : new Date(s));

function toState(row: PasswordCacheRow): PasswordCacheState {
  const known = {
    userId: row.userId,
    origin: row.origin as PasswordOrigin,
    changedAt: row.changedAt.toISOString(),
    cachedAt: row.cachedAt.toISOString(),
    attempts: row.attempts,
  };
  const settledAt = iso(row.settledAt) ?? known.cachedAt;
  switch (row.state) {
    case 'cached':
      if (row.ciphertext === null || row.nonce === null || row.tag === null || row.keyId === null) {
        throw new Error(`password_cache row for ${JSON.stringify(row.userId)} is 'cached' without a sealed secret`);
      }
      return {
        ...known,
        status: 'cached',
        sealed: {
          ciphertext: Buffer.from(row.ciphertext, 'base64'),
          nonce: Buffer.from(row.nonce, 'base64'),
          tag: Buffer.from(row.tag, 'base64'),
          keyId: row.keyId,
        },
        expiresAt: iso(row.expiresAt),
        lastReason: row.lastReason as PasswordSyncFailureReason | null,
        lastMessage: row.lastMessage,
        unavailableStreak: row.unavailableStreak,
        nextRetryAt: iso(row.nextRetryAt),
      };
    case 'synced':
      return { ...known, status: 'synced', syncedAt: settledAt };
    case 'expired':
      return { ...known, status: 'expired', expiredAt: settledAt };
    case 'discarded':
      return { ...known, status: 'discarded', discardedAt: settledAt };
    default:
      throw new Error(`password_cache row for ${JSON.stringify(row.userId)} has unknown state ${JSON.stringify(row.state)}`);
  }
}

function toRow(state: Exclude<PasswordCacheState, { status: 'empty' }>): PasswordCacheRow {
  const row = new PasswordCacheRow();
  row.userId = state.userId;
  row.state = state.status;
  row.origin = state.origin;
  row.changedAt = new Date(state.changedAt);
  row.cachedAt = new Date(state.cachedAt);
  row.attempts = state.attempts;
  if (state.status === 'cached') {
    row.ciphertext = state.sealed.ciphertext.toString('base64');
    row.nonce = state.sealed.nonce.toString('base64');
    row.tag = state.sealed.tag.toString('base64');
    row.keyId = state.sealed.keyId;
    row.expiresAt = date(state.expiresAt);
    row.lastReason = state.lastReason;
    row.lastMessage = state.lastMessage;
    row.unavailableStreak = state.unavailableStreak;
    row.nextRetryAt = date(state.nextRetryAt);
    row.settledAt = null;
  } else {
    // Destruction: the same UPDATE that changes the state overwrites every part of the secret.
    row.ciphertext = null;
    row.nonce = null;
    row.tag = null;
    row.keyId = null;
    row.expiresAt = null;
    row.lastReason = null;
    row.lastMessage = null;
    row.unavailableStreak = 0;
    row.nextRetryAt = null;
    row.settledAt = new Date(state.status === 'synced' ? state.syncedAt : state.status === 'expired' ? state.expiredAt : state.discardedAt);
  }
  return row;
}

/**
 * The `password_cache` table. Every method takes the `EntityManager` of the caller's transaction
 * (`processOnce`, `runInTransaction`), so state and inbox commit together.
 */
export class PasswordCacheRepository {
  /**
   * The user's state (`empty` when there is no row). On Postgres the row is locked `FOR UPDATE`
   * until the transaction ends, so two replicas deciding for one user take turns; SQLite
   * transactions are serialised by `openDatabase` already.
   */
  async load(manager: EntityManager, userId: string): Promise<PasswordCacheState> {
    const lock =
      manager.connection.options.type === 'postgres' && manager.queryRunner?.isTransactionActive
        ? { lock: { mode: 'pessimistic_write' as const } }
        : {};
    const row = await manager.findOne(PasswordCacheRow, { where: { userId }, ...lock });
    return row ? toState(row) : emptyState(userId);
  }

  /**
   * Writes the state, unless the stored row holds a newer change (newest wins even when a
   * caller decided on an old read). Leaving `cached` nulls the secret columns in the same write.
   */
  async save(manager: EntityManager, state: PasswordCacheState): Promise<SaveOutcome> {
    if (state.status === 'empty') return 'nothing-to-save';
    const current = await manager.findOne(PasswordCacheRow, { where: { userId: state.userId }, select: { userId: true, changedAt: true } });
    if (current && current.changedAt.getTime() > Date.parse(state.changedAt)) return 'stale';
    await manager.upsert(PasswordCacheRow, toRow(state), { conflictPaths: ['userId'] });
    return 'saved';
  }

  /** Users whose cached password has reached `expires_at` by `now`, oldest first. */
  async dueForExpiry(manager: EntityManager, now: Date, limit = 500): Promise<string[]> {
    const rows = await manager
      .createQueryBuilder(PasswordCacheRow, 'r')
      .select(['r.userId'])
      .where('r.state = :state', { state: 'cached' })
      .andWhere('r.expiresAt IS NOT NULL')
      // ISO-8601 strings of fixed width compare chronologically on both engines.
      .andWhere('r.expiresAt <= :now', { now: now.toISOString() })
      .orderBy('r.expiresAt', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map((r) => r.userId);
  }

  /** Users whose `target-unavailable` retry is due by `now`. */
  async dueForRetry(manager: EntityManager, now: Date, limit = 500): Promise<string[]> {
    const rows = await manager
      .createQueryBuilder(PasswordCacheRow, 'r')
      .select(['r.userId'])
      .where('r.state = :state', { state: 'cached' })
      .andWhere('r.nextRetryAt IS NOT NULL')
      .andWhere('r.nextRetryAt <= :now', { now: now.toISOString() })
      .orderBy('r.nextRetryAt', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map((r) => r.userId);
  }

  /**
   * Replaces the sealed secret of a cached row by the same secret sealed with another key, only
   * if the row still holds exactly `from` (same key id and nonce: a nonce is fresh for every seal,
   * so a newer change that replaced it meanwhile is never overwritten with an older password).
   * @returns whether the row was changed.
   */
  async reseal(manager: EntityManager, userId: string, from: SealedSecret, to: SealedSecret): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(PasswordCacheRow)
      .set({
        ciphertext: to.ciphertext.toString('base64'),
        nonce: to.nonce.toString('base64'),
        tag: to.tag.toString('base64'),
        keyId: to.keyId,
      })
      .where({ userId, state: 'cached', keyId: from.keyId, nonce: from.nonce.toString('base64') })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Users whose cached secret is sealed with one of `keyIds`, at most `limit`. */
  async sealedWith(manager: EntityManager, keyIds: readonly string[], limit: number): Promise<string[]> {
    if (keyIds.length === 0) return [];
    const rows = await manager.find(PasswordCacheRow, {
      select: { userId: true },
      where: { state: 'cached', keyId: In([...keyIds]) },
      order: { userId: 'ASC' },
      take: limit,
    });
    return rows.map((r) => r.userId);
  }

  /** Cached rows per key id (the key that sealed them); never reads a secret column but the id. */
  async cachedByKey(manager: EntityManager): Promise<Record<string, number>> {
    const rows = (await manager
      .createQueryBuilder(PasswordCacheRow, 'r')
      .select('r.key_id', 'keyId')
      .addSelect('COUNT(*)', 'n')
      .where('r.state = :state', { state: 'cached' })
      .groupBy('r.key_id')
      .getRawMany()) as Array<{ keyId: string | null; n: number | string }>;
    return Object.fromEntries(rows.map((r) => [r.keyId ?? 'none', Number(r.n)]));
  }

  /**
   * Users whose cached password was accepted by `cachedBefore` and has no recorded attempt: its
   * first attempt never ran, or its outcome was never stored (a crash in between). Oldest first.
   */
  async dueForFirstAttempt(manager: EntityManager, cachedBefore: Date, limit = 500): Promise<string[]> {
    const rows = await manager
      .createQueryBuilder(PasswordCacheRow, 'r')
      .select(['r.userId'])
      .where('r.state = :state', { state: 'cached' })
      .andWhere('r.attempts = 0')
      .andWhere('r.lastReason IS NULL')
      .andWhere('r.cachedAt <= :before', { before: cachedBefore.toISOString() })
      .orderBy('r.cachedAt', 'ASC')
      .limit(limit)
      .getMany();
    return rows.map((r) => r.userId);
  }

  /** How many passwords are cached right now (reported when they never expire). */
  async countCached(manager: EntityManager): Promise<number> {
    return manager.count(PasswordCacheRow, { where: { state: 'cached' } });
  }

  /**
   * What the alerts need about the cached rows: the earliest expiry (null when none expires) and
   * the longest run of `target-unavailable` failures of one password (0 when the target answers).
   */
  async cachedHealth(manager: EntityManager): Promise<CachedHealth> {
    const [earliest] = await manager.find(PasswordCacheRow, {
      select: { userId: true, expiresAt: true },
      where: { state: 'cached', expiresAt: Not(IsNull()) },
      order: { expiresAt: 'ASC' },
      take: 1,
    });
    const [longest] = await manager.find(PasswordCacheRow, {
      select: { userId: true, unavailableStreak: true },
      where: { state: 'cached' },
      order: { unavailableStreak: 'DESC' },
      take: 1,
    });
    return { earliestExpiresAt: earliest?.expiresAt ?? null, longestUnavailableStreak: longest?.unavailableStreak ?? 0 };
  }
}
