import { In, type DataSource, type EntityManager } from 'typeorm';
import {
  advanceCheckpoint,
  onPostgres,
  ProjectionCheckpoint,
  runInTransaction,
  setExcluded,
  tableOf,
  upsertRows,
  type UpsertStatement,
} from '@idm/persistence';
import type { Projection } from '@idm/messaging';
import type { ExpirationPolicy } from '../expiry/expiration-policy.js';
import { PasswordCacheRow } from '../password-cache/password-cache.entity.js';
import { PASSWORD_CACHE_REPLAYED_COLUMNS, type PasswordCacheRecord } from '../password-cache/password-cache.statements.js';
import { evolvePasswordCache, isPasswordEvent, type PasswordCacheView } from '../password-cache/password-cache.evolve.js';
import type { PasswordOrigin } from '../password-cache/password-cache.decider.js';
import type { PasswordSyncFailureReason } from '@idm/contracts';

/** The checkpoint name of password-sync's projection. */
export const PASSWORD_SYNC_PROJECTION = 'password-sync';

/** Per user: the entry, and which change the stored row holds a sealed secret for. */
export interface PasswordSyncSlot {
  state: PasswordCacheView | undefined;
  /** `changed_at` of the stored row when it holds a sealed secret: the only secret a replay may keep. */
  secretFor: string | null;
}

const CHUNK = 1000;
const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

function toView(row: PasswordCacheRow): PasswordCacheView {
  return {
    userId: row.userId,
    status: row.state as PasswordCacheView['status'],
    origin: row.origin as PasswordOrigin,
    changedAt: row.changedAt.toISOString(),
    cachedAt: row.cachedAt.toISOString(),
    attempts: row.attempts,
    expiresAt: iso(row.expiresAt),
    lastReason: row.lastReason as PasswordSyncFailureReason | null,
    lastMessage: row.lastMessage,
    unavailableStreak: row.unavailableStreak,
    nextRetryAt: iso(row.nextRetryAt),
    settledAt: iso(row.settledAt),
  };
}

/**
 * The row to write. Secrets cannot be rebuilt from the log (it never held them): an entry still
 * cached keeps the sealed secret of its row only if that row exists and holds the secret of the
 * same change; otherwise the password can never be applied and the entry is written `discarded`.
 * A replay never writes a secret column except to NULL it.
 */
function toRow(view: PasswordCacheView, secretFor: string | null): PasswordCacheRow {
  const keepsSecret = view.status === 'cached' && secretFor === view.changedAt;
  const v: PasswordCacheView =
    view.status === 'cached' && !keepsSecret
      ? {
          ...view,
          status: 'discarded',
          expiresAt: null,
          lastReason: null,
          lastMessage: null,
          unavailableStreak: 0,
          nextRetryAt: null,
          settledAt: view.cachedAt,
        }
      : view;
  return Object.assign(new PasswordCacheRow(), {
    userId: v.userId,
    state: v.status,
    origin: v.origin,
    ciphertext: null,
    nonce: null,
    tag: null,
    keyId: null,
    changedAt: new Date(v.changedAt),
    cachedAt: new Date(v.cachedAt),
    expiresAt: v.expiresAt === null ? null : new Date(v.expiresAt),
    attempts: v.attempts,
    unavailableStreak: v.unavailableStreak,
    lastReason: v.lastReason,
    lastMessage: v.lastMessage,
    nextRetryAt: v.nextRetryAt === null ? null : new Date(v.nextRetryAt),
    settledAt: v.settledAt === null ? null : new Date(v.settledAt),
  });
}

/**
 * `password_cache` as a projection of the password events in the log, for `replayProjection`: the
 * pure {@link evolvePasswordCache} per user (with the expiry `policy` in force: `PasswordChanged`
 * does not carry its expiry), and the row mapping. No password is applied, no event appended.
 * Rows are upserted, never emptied first, because the sealed secrets in them cannot come back
 * from anywhere else; a secret whose entry the log ended (synced, expired, discarded) is NULLed.
 * Run it with password-sync stopped.
 */
export function passwordSyncProjection(dataSource: DataSource, policy: Pick<ExpirationPolicy, 'minutes'>): Projection<PasswordSyncSlot> {
  return {
    app: 'password-sync',
    keyOf: (event) => (isPasswordEvent(event) ? event.data.userId : undefined),
    load: (users, fromNothing) => loadSlots(dataSource, users, fromNothing),
    evolve(slot, event) {
      if (!isPasswordEvent(event)) return slot;
      const next = evolvePasswordCache(slot.state, event, policy);
      return next === slot.state ? slot : { ...slot, state: next };
    },
    write: (changed, seq) => runInTransaction(dataSource, (m) => flush(m, changed, seq)),
    reset: async () => {
      await dataSource.getRepository(ProjectionCheckpoint).delete({ projection: PASSWORD_SYNC_PROJECTION });
    },
    rows: async (slots, dryRun) => {
      let rows = 0;
      if (dryRun) for (const s of slots.values()) rows += s.state ? 1 : 0;
      else rows = await dataSource.getRepository(PasswordCacheRow).count();
      return { password_cache: rows };
    },
  };
}

/** Reads the stored rows of `users`: their secret's change always; their state too unless the replay starts from nothing. */
async function loadSlots(dataSource: DataSource, users: readonly string[], fromNothing: boolean): Promise<Map<string, PasswordSyncSlot>> {
  const slots = new Map<string, PasswordSyncSlot>();
  for (let i = 0; i < users.length; i += CHUNK) {
    const chunk = users.slice(i, i + CHUNK);
    const rows = await dataSource.getRepository(PasswordCacheRow).findBy({ userId: In(chunk) });
    for (const u of chunk) slots.set(u, { state: undefined, secretFor: null });
    for (const row of rows) {
      // Only the presence of the secret is read; the ciphertext itself is never looked at.
      slots.set(row.userId, {
        state: fromNothing ? undefined : toView(row),
        secretFor: row.state === 'cached' && row.keyId !== null ? row.changedAt.toISOString() : null,
      });
    }
  }
  return slots;
}

/** Writes the changed users' rows, NULLs the secrets their entries ended, and the checkpoint, in the caller's transaction. */
async function flush(m: EntityManager, changed: ReadonlyMap<string, PasswordSyncSlot>, seq: number): Promise<void> {
  const rows: PasswordCacheRow[] = [];
  const nullSecrets: string[] = [];
  for (const [user, slot] of changed) {
    if (!slot.state) continue;
    const row = toRow(slot.state, slot.secretFor);
    rows.push(row);
    if (row.state !== 'cached') {
      if (slot.secretFor !== null) nullSecrets.push(user);
      slot.secretFor = null;
    }
  }
  // The secret columns are in neither the column list nor the update list (a new row gets NULL, an
  // existing secret is kept); they are only ever NULLed, below.
  await upsertRows(m, replayUpsert(m), rows.map(replayedValuesOf));
  await nullSecretsOf(m, nullSecrets);
  await advanceCheckpoint(m, PASSWORD_SYNC_PROJECTION, seq);
}

/** The Postgres type of each column (timestamps are ISO text), for the `unnest` arrays of {@link replayUpsert}. */
const POSTGRES_TYPES: Readonly<Record<keyof PasswordCacheRecord, string>> = {
  user_id: 'varchar',
  state: 'varchar',
  origin: 'varchar',
  ciphertext: 'text',
  nonce: 'varchar',
  tag: 'varchar',
  key_id: 'varchar',
  changed_at: 'varchar',
  cached_at: 'varchar',
  expires_at: 'varchar',
  attempts: 'integer',
  unavailable_streak: 'integer',
  last_reason: 'varchar',
  last_message: 'text',
  next_retry_at: 'varchar',
  settled_at: 'varchar',
};

/** The columns a replay writes: the key and {@link PASSWORD_CACHE_REPLAYED_COLUMNS}, never the secret. */
const REPLAY_COLUMNS: ReadonlyArray<keyof PasswordCacheRecord> = ['user_id', ...PASSWORD_CACHE_REPLAYED_COLUMNS];

/** The replay's upsert: `user_id` + {@link PASSWORD_CACHE_REPLAYED_COLUMNS}, all of them written over on a conflict. */
function replayUpsert(m: EntityManager): UpsertStatement {
  return {
    table: tableOf(m, PasswordCacheRow),
    columns: Object.fromEntries(REPLAY_COLUMNS.map((name) => [name, POSTGRES_TYPES[name]])),
    conflict: ['user_id'],
    set: setExcluded(PASSWORD_CACHE_REPLAYED_COLUMNS),
    // 12,000 parameters a statement: under SQLite's limit of 32,766.
    sqliteChunk: CHUNK,
  };
}

/** The values of {@link replayUpsert} of one row, in its column order: as stored, timestamps as ISO text. */
function replayedValuesOf(r: PasswordCacheRow): unknown[] {
  const record: Omit<PasswordCacheRecord, 'ciphertext' | 'nonce' | 'tag' | 'key_id'> = {
    user_id: r.userId,
    state: r.state,
    origin: r.origin,
    changed_at: r.changedAt.toISOString(),
    cached_at: r.cachedAt.toISOString(),
    expires_at: iso(r.expiresAt),
    attempts: r.attempts,
    unavailable_streak: r.unavailableStreak,
    last_reason: r.lastReason,
    last_message: r.lastMessage,
    next_retry_at: iso(r.nextRetryAt),
    settled_at: iso(r.settledAt),
  };
  return REPLAY_COLUMNS.map((c) => record[c as keyof typeof record]);
}

/** NULLs the sealed secret of `users`: one statement on Postgres (the ids as one array), one per {@link CHUNK} on SQLite. */
async function nullSecretsOf(m: EntityManager, users: readonly string[]): Promise<void> {
  const update = `UPDATE ${tableOf(m, PasswordCacheRow)} SET ciphertext = NULL, nonce = NULL, tag = NULL, key_id = NULL`;
  if (onPostgres(m)) {
    if (users.length > 0) await m.query(`${update} WHERE user_id = ANY($1::varchar[])`, [users]);
    return;
  }
  for (let i = 0; i < users.length; i += CHUNK) {
    const ids = users.slice(i, i + CHUNK);
    await m.query(`${update} WHERE user_id IN (${ids.map(() => '?').join(', ')})`, ids);
  }
}
