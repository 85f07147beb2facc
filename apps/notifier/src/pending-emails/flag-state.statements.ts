import type { SqlTarget } from '@idm/persistence';
import { onPostgres } from '@idm/persistence';
import type { Recipient } from '../recipients/recipient.decider.js';
import { recipientOf, selectRecipients, type RecipientRecord } from '../recipients/recipient.statements.js';
import { selectPendingTypes } from './pending-email.statements.js';

/** What the flag deciders of a batch read: the users' recipients and the email types pending for them. */
export interface FlagState {
  /** By user id; users the notifier does not know are absent. */
  readonly recipients: Map<string, Recipient>;
  /** By user id; users with nothing pending are absent. */
  readonly pendingTypes: Map<string, Set<string>>;
}

/** One row of {@link FLAG_STATE_POSTGRES}: a recipient (`email_type` NULL) or a pending email type. */
type FlagStateRecord = RecipientRecord & { readonly email_type: string | null };

// `pending_email.email_type` is part of its primary key, never NULL: a NULL marks a recipient row.
const FLAG_STATE_POSTGRES =
  'SELECT user_id, email, display_name, updated_seq, NULL::varchar AS email_type FROM recipient WHERE user_id = ANY($1::varchar[]) ' +
  'UNION ALL SELECT user_id, NULL, NULL, NULL, email_type FROM pending_email WHERE user_id = ANY($1::varchar[])';

/**
 * The state the flag deciders need for `userIds`: on Postgres both tables in one statement (a
 * group commit's reads are one round trip, not two); on SQLite, where a statement costs no round
 * trip, the two selects.
 */
export async function selectFlagState(target: SqlTarget, userIds: readonly string[]): Promise<FlagState> {
  if (!onPostgres(target))
    return { recipients: await selectRecipients(target, userIds), pendingTypes: await selectPendingTypes(target, userIds) };
  const recipients = new Map<string, Recipient>();
  const pendingTypes = new Map<string, Set<string>>();
  const unique = [...new Set(userIds)];
  if (unique.length === 0) return { recipients, pendingTypes };
  for (const row of (await target.query(FLAG_STATE_POSTGRES, [unique])) as FlagStateRecord[]) {
    if (row.email_type === null) {
      recipients.set(row.user_id, recipientOf(row));
    } else {
      pendingTypes.set(row.user_id, (pendingTypes.get(row.user_id) ?? new Set<string>()).add(row.email_type));
    }
  }
  return { recipients, pendingTypes };
}
