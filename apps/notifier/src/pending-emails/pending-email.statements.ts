import type { SqlTarget } from '@idm/persistence';
import { onPostgres } from '@idm/persistence';
import { chunked, lastPerKey, selectByUserIds, sqliteRows } from '../batch-sql.js';
import type { PendingEmail } from './pending-email.js';

/** Rows per SQLite statement: 12 parameters a row stays far under its parameter limit. */
const SQLITE_CHUNK = 400;

const COLUMNS =
  'user_id, email_type, queued_event_id, queued_at, first_queued_at, attempts, last_error, claimed_tick, claimed_at, claim_token, claim_owner, context';

/** The Postgres array type of each of {@link COLUMNS}, in order (timestamps are ISO text). */
const POSTGRES_TYPES = [
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'integer',
  'text',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'text',
];

/**
 * On conflict every column is overwritten but the claim's owner, which goes with the claim: a
 * released claim (no token) has no owner, a kept claim keeps the owner already stored.
 */
const ON_CONFLICT =
  'ON CONFLICT (user_id, email_type) DO UPDATE SET queued_event_id = excluded.queued_event_id, queued_at = excluded.queued_at, ' +
  'first_queued_at = excluded.first_queued_at, attempts = excluded.attempts, last_error = excluded.last_error, ' +
  'claimed_tick = excluded.claimed_tick, claimed_at = excluded.claimed_at, claim_token = excluded.claim_token, ' +
  'claim_owner = CASE WHEN excluded.claim_token IS NULL THEN NULL ELSE pending_email.claim_owner END, context = excluded.context';

/** {@link COLUMNS} of one pending email, as stored (timestamps as the columns' ISO text, context as JSON). */
function valuesOf(p: PendingEmail): unknown[] {
  return [
    p.userId,
    p.emailType,
    p.queuedEventId,
    p.queuedAt.toISOString(),
    p.firstQueuedAt.toISOString(),
    p.attempts,
    p.lastError,
    p.claimedTick,
    p.claimedAt?.toISOString() ?? null,
    p.claimToken,
    null, // a new row's owner: none (a claim's owner is only ever written by the claim)
    JSON.stringify(p.context),
  ];
}

/**
 * Inserts or overwrites `pending` (one row per user and email type; the last entry of a key
 * listed twice wins, as successive saves would), one statement on Postgres (`unnest` of one array
 * per column), one per 400 rows on SQLite; call inside the transaction.
 */
export async function upsertPendingEmails(target: SqlTarget, pending: readonly PendingEmail[]): Promise<void> {
  const rows = lastPerKey(pending, (p) => `${p.userId}\u0000${p.emailType}`).map(valuesOf);
  if (rows.length === 0) return;
  if (onPostgres(target)) {
    const arrays = POSTGRES_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
    await target.query(
      `INSERT INTO pending_email (${COLUMNS}) SELECT * FROM unnest(${arrays}) ${ON_CONFLICT}`,
      POSTGRES_TYPES.map((_, i) => rows.map((row) => row[i])),
    );
    return;
  }
  for (const chunk of chunked(rows, SQLITE_CHUNK)) {
    await target.query(
      `INSERT INTO pending_email (${COLUMNS}) VALUES ${sqliteRows(chunk.length, POSTGRES_TYPES.length)} ${ON_CONFLICT}`,
      chunk.flat(),
    );
  }
}

/** The email types pending for each of `userIds` (users with none are absent), see {@link selectByUserIds}. */
export async function selectPendingTypes(target: SqlTarget, userIds: readonly string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const rows = await selectByUserIds<{ user_id: string; email_type: string }>(target, 'pending_email', 'user_id, email_type', userIds);
  for (const row of rows) out.set(row.user_id, (out.get(row.user_id) ?? new Set<string>()).add(row.email_type));
  return out;
}
