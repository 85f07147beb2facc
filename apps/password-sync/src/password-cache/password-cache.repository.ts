import { In, IsNull, Not, type EntityManager, type QueryResult } from 'typeorm';
import type { PasswordSyncFailureReason } from '@idm/contracts';
import { emptyState, type CachedPassword, type PasswordCacheState, type PasswordOrigin } from './password-cache.decider.js';
import { PasswordCacheRow } from './password-cache.entity.js';
import { passwordCacheStatements, type PasswordCacheRecord } from './password-cache.statements.js';
import type { SealedSecret } from './sealed-secret.js';

/** The cached rows as the alerts see them ({@link PasswordCacheRepository.cachedHealth}). */
export interface CachedHealth {
  readonly earliestExpiresAt: Date | null;
  readonly longestUnavailableStreak: number;
}

/** What {@link PasswordCacheRepository.save} did. */
export type SaveOutcome = 'saved' | 'stale' | 'nothing-to-save';

function toState(row: PasswordCacheRecord): PasswordCacheState {
  const known = {
    userId: row.user_id,
    origin: row.origin as PasswordOrigin,
    changedAt: row.changed_at,
    cachedAt: row.cached_at,
    attempts: Number(row.attempts),
  };
  const settledAt = row.settled_at ?? known.cachedAt;
  switch (row.state) {
    case 'cached':
      if (row.ciphertext === null || row.nonce === null || row.tag === null || row.key_id === null) {
        throw new Error(`password_cache row for ${JSON.stringify(row.user_id)} is 'cached' without a sealed secret`);
      }
      return {
        ...known,
        status: 'cached',
        sealed: {
          ciphertext: Buffer.from(row.ciphertext, 'base64'),
          nonce: Buffer.from(row.nonce, 'base64'),
          tag: Buffer.from(row.tag, 'base64'),
          keyId: row.key_id,
        },
        expiresAt: row.expires_at,
        lastReason: row.last_reason as PasswordSyncFailureReason | null,
        lastMessage: row.last_message,
        unavailableStreak: Number(row.unavailable_streak),
        nextRetryAt: row.next_retry_at,
      };
    case 'synced':
      return { ...known, status: 'synced', syncedAt: settledAt };
    case 'expired':
      return { ...known, status: 'expired', expiredAt: settledAt };
    case 'discarded':
      return { ...known, status: 'discarded', discardedAt: settledAt };
    default:
      throw new Error(`password_cache row for ${JSON.stringify(row.user_id)} has unknown state ${JSON.stringify(row.state)}`);
  }
}

/** The parameters of `saveIfNotOlder`, in {@link PASSWORD_CACHE_COLUMNS} order. */
function toParameters(state: Exclude<PasswordCacheState, { status: 'empty' }>): unknown[] {
  const known = [state.userId, state.status, state.origin];
  const times = [state.changedAt, state.cachedAt];
  if (state.status === 'cached') {
    const { sealed } = state;
    return [
      ...known,
      sealed.ciphertext.toString('base64'),
      sealed.nonce.toString('base64'),
      sealed.tag.toString('base64'),
      sealed.keyId,
      ...times,
      state.expiresAt,
      state.attempts,
      state.unavailableStreak,
      state.lastReason,
      state.lastMessage,
      state.nextRetryAt,
      null,
    ];
  }
  // Destruction: the same write that changes the state overwrites every part of the secret.
  const settledAt = state.status === 'synced' ? state.syncedAt : state.status === 'expired' ? state.expiredAt : state.discardedAt;
  return [...known, null, null, null, null, ...times, null, state.attempts, 0, null, null, null, settledAt];
}

/**
 * The `password_cache` table. Writes take the `EntityManager` of the caller's unit of work (an
 * `Outbox` unit), so state, inbox row and outbox rows commit together; reads may take the
 * DataSource's manager.
 */
export class PasswordCacheRepository {
  /**
   * The user's state (`empty` when there is no row). On Postgres the row is locked `FOR UPDATE`
   * until the transaction ends, so two replicas deciding for one user take turns; SQLite
   * transactions are serialised by `openDatabase` already.
   */
  async load(manager: EntityManager, userId: string): Promise<PasswordCacheState> {
    const statements = passwordCacheStatements(manager);
    const locked = manager.queryRunner?.isTransactionActive === true;
    const rows = (await manager.query(locked ? statements.loadForUpdate : statements.load, [userId])) as PasswordCacheRecord[];
    return rows[0] ? toState(rows[0]) : emptyState(userId);
  }

  /**
   * Writes the state, unless the stored row holds a newer change (newest wins even when a
   * caller decided on an old read). Leaving `cached` nulls the secret columns in the same write.
   * One statement: the check and the write are the same `INSERT … ON CONFLICT DO UPDATE … WHERE`.
   */
  async save(manager: EntityManager, state: PasswordCacheState): Promise<SaveOutcome> {
    if (state.status === 'empty') return 'nothing-to-save';
    const written = (await manager.query(passwordCacheStatements(manager).saveIfNotOlder, toParameters(state))) as unknown[];
    return written.length > 0 ? 'saved' : 'stale';
  }

  /**
   * Writes `state` only if the row still holds exactly `expected` (the same change, attempt count
   * and sealed secret), for a decision made on a row read earlier: no second read, one statement,
   * and on Postgres the UPDATE takes the row lock a `load` under the lock would have. `false` means
   * something was written meanwhile (or `state` is `empty`): nothing was written; load and decide again.
   * Needs the caller's transaction (`manager.queryRunner`).
   */
  async saveIfUnchanged(manager: EntityManager, state: PasswordCacheState, expected: CachedPassword): Promise<boolean> {
    if (state.status === 'empty') return false;
    if (!manager.queryRunner) throw new Error('saveIfUnchanged needs the EntityManager of a transaction');
    const [, ...columns] = toParameters(state);
    const parameters = [...columns, expected.userId, expected.changedAt, expected.attempts, expected.sealed.nonce.toString('base64')];
    // Structured: a raw Postgres UPDATE result is [rows, count], a raw SQLite one the rows.
    const result = (await manager.queryRunner.query(passwordCacheStatements(manager).saveIfUnchanged, parameters, true)) as QueryResult;
    return result.records.length > 0;
  }

  /** Users whose cached password has reached `expires_at` by `now`, oldest first (index `password_cache_expiry`). */
  async dueForExpiry(manager: EntityManager, now: Date, limit = 500): Promise<string[]> {
    return userIds(manager, passwordCacheStatements(manager).dueForExpiry, [now.toISOString(), limit]);
  }

  /** Users whose `target-unavailable` retry is due by `now` (index `password_cache_retry`). */
  async dueForRetry(manager: EntityManager, now: Date, limit = 500): Promise<string[]> {
    return userIds(manager, passwordCacheStatements(manager).dueForRetry, [now.toISOString(), limit]);
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
   * first attempt never ran, or its outcome was never stored (a crash in between). Oldest first;
   * reads the partial index `password_cache_first_attempt`, which holds only such rows.
   */
  async dueForFirstAttempt(manager: EntityManager, cachedBefore: Date, limit = 500): Promise<string[]> {
    return userIds(manager, passwordCacheStatements(manager).dueForFirstAttempt, [cachedBefore.toISOString(), limit]);
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

async function userIds(manager: EntityManager, sql: string, parameters: unknown[]): Promise<string[]> {
  const rows = (await manager.query(sql, parameters)) as Array<{ user_id: string }>;
  return rows.map((r) => r.user_id);
}
