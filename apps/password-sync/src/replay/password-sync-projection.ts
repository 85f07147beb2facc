import { In, type DataSource, type EntityManager } from 'typeorm';
import { advanceCheckpoint, ProjectionCheckpoint, runInTransaction, upsertInChunks } from '@idm/persistence';
import type { Projection } from '@idm/messaging';
import type { ExpirationPolicy } from '../expiry/expiration-policy.js';
import { PasswordCacheRow } from '../password-cache/password-cache.entity.js';
import { PASSWORD_CACHE_REPLAYED_COLUMNS } from '../password-cache/password-cache.statements.js';
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
  if (m.connection.options.type === 'postgres') await writePostgres(m, rows, nullSecrets);
  else await writePortable(m, rows, nullSecrets);
  await advanceCheckpoint(m, PASSWORD_SYNC_PROJECTION, seq);
}

/** SQLite (and any other engine): TypeORM's multi-row upserts and updates, in chunks. */
async function writePortable(m: EntityManager, rows: readonly PasswordCacheRow[], nullSecrets: readonly string[]): Promise<void> {
  // The secret columns are not in the update list: an existing secret is kept or NULLed below, never written.
  await upsertInChunks(m, PasswordCacheRow, rows, { update: PASSWORD_CACHE_REPLAYED_COLUMNS, conflict: ['user_id'], chunk: CHUNK });
  for (let i = 0; i < nullSecrets.length; i += CHUNK) {
    await m
      .createQueryBuilder()
      .update(PasswordCacheRow)
      .set({ ciphertext: null, nonce: null, tag: null, keyId: null })
      .where({ userId: In(nullSecrets.slice(i, i + CHUNK)) })
      .execute();
  }
}

/**
 * The Postgres upsert of {@link writePostgres}: one array parameter per column, in
 * `user_id` + {@link PASSWORD_CACHE_REPLAYED_COLUMNS} order (the unnest types follow that order).
 */
const POSTGRES_UPSERT =
  `INSERT INTO password_cache (user_id, ${PASSWORD_CACHE_REPLAYED_COLUMNS.join(', ')}) ` +
  'SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::integer[], $8::integer[], $9::varchar[], $10::text[], $11::varchar[], $12::varchar[]) ' +
  `ON CONFLICT (user_id) DO UPDATE SET ${PASSWORD_CACHE_REPLAYED_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;

/** What the timestamp columns' transformer writes for a value. */
const isoOf = (value: Date | null): string | null => (value instanceof Date ? value.toISOString() : value);

/**
 * Postgres: one upsert and one update per batch, the rows passed as one array parameter per
 * column and expanded with `unnest`; building TypeORM's multi-row statements cost more than the
 * database work. Same values as {@link writePortable}. The secret columns are in neither the
 * column list nor the update list (a new row gets NULL, an existing secret is kept) and are only
 * ever NULLed below.
 */
async function writePostgres(m: EntityManager, rows: readonly PasswordCacheRow[], nullSecrets: readonly string[]): Promise<void> {
  if (rows.length > 0) {
    await m.query(POSTGRES_UPSERT, [
      rows.map((r) => r.userId),
      rows.map((r) => r.state),
      rows.map((r) => r.origin),
      rows.map((r) => isoOf(r.changedAt)),
      rows.map((r) => isoOf(r.cachedAt)),
      rows.map((r) => isoOf(r.expiresAt)),
      rows.map((r) => r.attempts),
      rows.map((r) => r.unavailableStreak),
      rows.map((r) => r.lastReason),
      rows.map((r) => r.lastMessage),
      rows.map((r) => isoOf(r.nextRetryAt)),
      rows.map((r) => isoOf(r.settledAt)),
    ]);
  }
  if (nullSecrets.length > 0) {
    await m.query(
      `UPDATE password_cache SET ciphertext = NULL, nonce = NULL, tag = NULL, key_id = NULL WHERE user_id = ANY($1::varchar[])`,
      [nullSecrets],
    );
  }
}
