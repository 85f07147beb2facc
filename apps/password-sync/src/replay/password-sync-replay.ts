import { In, type DataSource, type EntityManager } from 'typeorm';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { advanceCheckpoint, ProjectionCheckpoint, runInTransaction } from '@idm/persistence';
import { readStreamInBatches, rate, type ReplaySink } from '@idm/messaging';
import type { ExpirationPolicy } from '../expiry/expiration-policy.js';
import { PasswordCacheRow } from '../password-cache/password-cache.entity.js';
import { evolvePasswordCache, isPasswordEvent, type PasswordCacheView } from '../password-cache/password-cache.evolve.js';
import type { PasswordOrigin } from '../password-cache/password-cache.decider.js';
import type { PasswordSyncFailureReason } from '@idm/contracts';

/** The checkpoint name of password-sync's projection. */
export const PASSWORD_SYNC_PROJECTION = 'password-sync';

/** What to replay. With neither `fromSeq` nor `since` every entry is rebuilt from the first event. */
export interface PasswordSyncReplayOptions {
  readonly stream: string;
  readonly fromSeq?: number;
  readonly since?: Date;
  readonly dryRun?: boolean;
  readonly batchSize?: number;
  /** The expiry policy in force: `PasswordChanged` does not carry its expiry. */
  readonly policy: Pick<ExpirationPolicy, 'minutes'>;
}

/** Collaborators: the database and the stream. No target, no sealer, no publisher. */
export interface PasswordSyncReplayPorts {
  readonly dataSource: DataSource;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly sink: ReplaySink;
}

interface Slot {
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
 * Rebuilds `password_cache` from the password events in the log with the pure
 * {@link evolvePasswordCache} only: no password is applied, no event appended. Batches are written
 * in one transaction each with the `password-sync` checkpoint. Rows are upserted, never emptied
 * first, because the sealed secrets in them cannot come back from anywhere else; a secret whose
 * entry the log ended (synced, expired, discarded) is NULLed. Run it with password-sync stopped.
 */
export async function replayPasswordSync(
  ports: PasswordSyncReplayPorts,
  options: PasswordSyncReplayOptions,
): Promise<{ read: number; applied: number; lastSeq: number }> {
  const { dataSource, sink } = ports;
  const full = options.fromSeq === undefined && options.since === undefined;
  const dryRun = options.dryRun ?? false;
  sink({
    kind: 'start',
    app: 'password-sync',
    stream: options.stream,
    fromSeq: options.fromSeq ?? null,
    since: options.since?.toISOString() ?? null,
    dryRun,
  });
  if (full && !dryRun) await dataSource.getRepository(ProjectionCheckpoint).delete({ projection: PASSWORD_SYNC_PROJECTION });
  const slots = new Map<string, Slot>();
  const started = Date.now();
  let applied = 0;
  let undecodable = 0;
  const result = await readStreamInBatches(
    ports.js,
    ports.jsm,
    { stream: options.stream, fromSeq: options.fromSeq, since: options.since, batchSize: options.batchSize ?? 5000 },
    async (batch, progress) => {
      const missing = new Set<string>();
      for (const entry of batch)
        if (entry.event && isPasswordEvent(entry.event) && !slots.has(entry.event.data.userId)) missing.add(entry.event.data.userId);
      if (missing.size > 0) await loadSlots(dataSource, [...missing], slots, full);
      const dirty = new Set<string>();
      for (const entry of batch) {
        if (!entry.event) {
          undecodable += 1;
          continue;
        }
        if (!isPasswordEvent(entry.event)) continue;
        const slot = slots.get(entry.event.data.userId)!;
        const next = evolvePasswordCache(slot.state, entry.event, options.policy);
        if (next !== slot.state) {
          slot.state = next;
          dirty.add(entry.event.data.userId);
          applied += 1;
        }
      }
      if (!dryRun) await runInTransaction(dataSource, (m) => flush(m, slots, dirty, progress.seq));
      sink({
        kind: 'progress',
        read: progress.read,
        pending: progress.pending,
        seq: progress.seq,
        eventsPerSecond: rate(progress.read, Date.now() - started),
      });
    },
  );
  let rows = 0;
  if (dryRun) for (const s of slots.values()) rows += s.state ? 1 : 0;
  else rows = await dataSource.getRepository(PasswordCacheRow).count();
  const elapsedMs = Date.now() - started;
  sink({
    kind: 'summary',
    app: 'password-sync',
    read: result.read,
    applied,
    undecodable,
    lastSeq: result.lastSeq,
    elapsedMs,
    eventsPerSecond: rate(result.read, elapsedMs),
    dryRun,
    rows: { password_cache: rows },
  });
  return { read: result.read, applied, lastSeq: result.lastSeq };
}

/** Reads the stored rows of `users`: their secret's change always; their state too unless the replay starts from nothing. */
async function loadSlots(dataSource: DataSource, users: readonly string[], slots: Map<string, Slot>, fromNothing: boolean): Promise<void> {
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
}

async function flush(m: EntityManager, slots: Map<string, Slot>, dirty: ReadonlySet<string>, seq: number): Promise<void> {
  const rows: PasswordCacheRow[] = [];
  const nullSecrets: string[] = [];
  for (const user of dirty) {
    const slot = slots.get(user)!;
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
  const columns = [
    'state',
    'origin',
    'changed_at',
    'cached_at',
    'expires_at',
    'attempts',
    'unavailable_streak',
    'last_reason',
    'last_message',
    'next_retry_at',
    'settled_at',
  ];
  for (let i = 0; i < rows.length; i += CHUNK) {
    // The secret columns are not in the update list: an existing secret is kept or NULLed below, never written.
    await m
      .createQueryBuilder()
      .insert()
      .into(PasswordCacheRow)
      .values(rows.slice(i, i + CHUNK))
      .orUpdate(columns, ['user_id'])
      .execute();
  }
  for (let i = 0; i < nullSecrets.length; i += CHUNK) {
    await m
      .createQueryBuilder()
      .update(PasswordCacheRow)
      .set({ ciphertext: null, nonce: null, tag: null, keyId: null })
      .where({ userId: In(nullSecrets.slice(i, i + CHUNK)) })
      .execute();
  }
}

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
    await m.query(
      `INSERT INTO password_cache (user_id, state, origin, changed_at, cached_at, expires_at, attempts, unavailable_streak, last_reason, last_message, next_retry_at, settled_at)
       SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::integer[], $8::integer[], $9::varchar[], $10::text[], $11::varchar[], $12::varchar[])
       ON CONFLICT (user_id) DO UPDATE SET state = EXCLUDED.state, origin = EXCLUDED.origin, changed_at = EXCLUDED.changed_at, cached_at = EXCLUDED.cached_at,
         expires_at = EXCLUDED.expires_at, attempts = EXCLUDED.attempts, unavailable_streak = EXCLUDED.unavailable_streak, last_reason = EXCLUDED.last_reason,
         last_message = EXCLUDED.last_message, next_retry_at = EXCLUDED.next_retry_at, settled_at = EXCLUDED.settled_at`,
      [
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
      ],
    );
  }
  if (nullSecrets.length > 0) {
    await m.query(
      `UPDATE password_cache SET ciphertext = NULL, nonce = NULL, tag = NULL, key_id = NULL WHERE user_id = ANY($1::varchar[])`,
      [nullSecrets],
    );
  }
}
