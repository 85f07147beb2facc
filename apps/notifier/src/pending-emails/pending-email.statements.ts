import type { SqlTarget, UpsertStatement } from '@idm/persistence';
import { upsertRows } from '@idm/persistence';
import { lastPerKey, selectByUserIds } from '../batch-sql.js';
import type { PendingEmail } from './pending-email.js';

/**
 * On conflict every column is overwritten but the claim's owner, which goes with the claim: a
 * released claim (no token) has no owner, a kept claim keeps the owner already stored. Rows per
 * SQLite statement: 12 parameters a row stays far under its parameter limit.
 */
const UPSERT: UpsertStatement = {
  table: 'pending_email',
  // Timestamps are ISO text.
  columns: {
    user_id: 'varchar',
    email_type: 'varchar',
    queued_event_id: 'varchar',
    queued_at: 'varchar',
    first_queued_at: 'varchar',
    attempts: 'integer',
    last_error: 'text',
    claimed_tick: 'varchar',
    claimed_at: 'varchar',
    claim_token: 'varchar',
    claim_owner: 'varchar',
    context: 'text',
  },
  conflict: ['user_id', 'email_type'],
  set:
    'queued_event_id = excluded.queued_event_id, queued_at = excluded.queued_at, ' +
    'first_queued_at = excluded.first_queued_at, attempts = excluded.attempts, last_error = excluded.last_error, ' +
    'claimed_tick = excluded.claimed_tick, claimed_at = excluded.claimed_at, claim_token = excluded.claim_token, ' +
    'claim_owner = CASE WHEN excluded.claim_token IS NULL THEN NULL ELSE pending_email.claim_owner END, context = excluded.context',
  sqliteChunk: 400,
};

/** The columns of {@link UPSERT} of one pending email, as stored (timestamps as the columns' ISO text, context as JSON). */
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
 * listed twice wins, as successive saves would), one statement on Postgres, one per 400 rows on
 * SQLite ({@link upsertRows}); call inside the transaction. The ingest's group commit, the tick's
 * outcomes and the replay all write pending emails through here.
 */
export async function upsertPendingEmails(target: SqlTarget, pending: readonly PendingEmail[]): Promise<void> {
  await upsertRows(target, UPSERT, lastPerKey(pending, (p) => `${p.userId}\u0000${p.emailType}`).map(valuesOf));
}

/** The email types pending for each of `userIds` (users with none are absent), see {@link selectByUserIds}. */
export async function selectPendingTypes(target: SqlTarget, userIds: readonly string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const rows = await selectByUserIds<{ user_id: string; email_type: string }>(target, 'pending_email', 'user_id, email_type', userIds);
  for (const row of rows) out.set(row.user_id, (out.get(row.user_id) ?? new Set<string>()).add(row.email_type));
  return out;
}
