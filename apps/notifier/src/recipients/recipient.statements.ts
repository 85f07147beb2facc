import type { SqlTarget } from '@idm/persistence';
import { onPostgres } from '@idm/persistence';
import { chunked, lastPerKey, selectByUserIds, sqliteRows } from '../batch-sql.js';
import type { Recipient } from './recipient.decider.js';

/** Users per SQLite statement: 4 parameters a row stays far under its parameter limit. */
const SQLITE_CHUNK = 500;

const COLUMNS = 'user_id, email, display_name, updated_seq';

/** A `recipient` row as the engine returns it (`bigint` is a string on Postgres). */
export interface RecipientRecord {
  readonly user_id: string;
  readonly email: string | null;
  readonly display_name: string | null;
  readonly updated_seq: number | string;
}

/** The recipient a row holds. */
export function recipientOf(row: RecipientRecord): Recipient {
  return { userId: row.user_id, email: row.email, displayName: row.display_name, updatedSeq: Number(row.updated_seq) };
}

/** The recipients of `userIds` (absent users are not in the map), see {@link selectByUserIds}. */
export async function selectRecipients(target: SqlTarget, userIds: readonly string[]): Promise<Map<string, Recipient>> {
  const out = new Map<string, Recipient>();
  for (const row of await selectByUserIds<RecipientRecord>(target, 'recipient', COLUMNS, userIds)) {
    out.set(row.user_id, recipientOf(row));
  }
  return out;
}

/**
 * Inserts or overwrites `recipients` (every column), one statement on Postgres (`unnest` of one
 * array per column), one per 500 on SQLite; call inside the transaction. A user listed twice is
 * written once, with its last entry, as successive saves would leave it.
 */
export async function upsertRecipients(target: SqlTarget, recipients: readonly Recipient[]): Promise<void> {
  const rows = lastPerKey(recipients, (r) => r.userId);
  if (rows.length === 0) return;
  const update =
    'ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, display_name = excluded.display_name, updated_seq = excluded.updated_seq';
  if (onPostgres(target)) {
    await target.query(
      `INSERT INTO recipient (${COLUMNS}) SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::bigint[]) ${update}`,
      [rows.map((r) => r.userId), rows.map((r) => r.email), rows.map((r) => r.displayName), rows.map((r) => r.updatedSeq)],
    );
    return;
  }
  for (const chunk of chunked(rows, SQLITE_CHUNK)) {
    await target.query(
      `INSERT INTO recipient (${COLUMNS}) VALUES ${sqliteRows(chunk.length, 4)} ${update}`,
      chunk.flatMap((r) => [r.userId, r.email, r.displayName, r.updatedSeq]),
    );
  }
}
