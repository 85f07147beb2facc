import type { SqlTarget, UpsertStatement } from '@idm/persistence';
import { setExcluded, upsertRows } from '@idm/persistence';
import { lastPerKey, selectByUserIds } from '../batch-sql.js';
import type { Recipient } from './recipient.decider.js';

const COLUMNS = 'user_id, email, display_name, updated_seq';

/** Every column is overwritten; users per SQLite statement: 4 parameters a row stays far under its parameter limit. */
const UPSERT: UpsertStatement = {
  table: 'recipient',
  columns: { user_id: 'varchar', email: 'varchar', display_name: 'varchar', updated_seq: 'bigint' },
  conflict: ['user_id'],
  set: setExcluded(['email', 'display_name', 'updated_seq']),
  sqliteChunk: 500,
};

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
 * Inserts or overwrites `recipients` (every column), one statement on Postgres, one per 500 on
 * SQLite ({@link upsertRows}); call inside the transaction. A user listed twice is written once,
 * with its last entry, as successive saves would leave it. The ingest's group commit and the
 * replay both write recipients through here.
 */
export async function upsertRecipients(target: SqlTarget, recipients: readonly Recipient[]): Promise<void> {
  const rows = lastPerKey(recipients, (r) => r.userId).map((r) => [r.userId, r.email, r.displayName, r.updatedSeq]);
  await upsertRows(target, UPSERT, rows);
}
