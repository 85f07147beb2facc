import type { IdmEventOf } from '@idm/contracts';

/** What the notifier keeps about a user: where to write and how to greet them. */
export interface Recipient {
  readonly userId: string;
  /** Null while the account has no mail address yet (a `UserAdded` without `email`). */
  readonly email: string | null;
  readonly displayName: string | null;
  /** Stream sequence of the last user event applied; older deliveries are ignored. */
  readonly updatedSeq: number;
}

/** Whether a mail can be written to this recipient now. */
export function hasAddress(recipient: Recipient | undefined): recipient is Recipient & { readonly email: string } {
  return recipient !== undefined && recipient.email !== null;
}

/** The user events that feed the recipient directory. */
export type RecipientEvent = IdmEventOf<'idm.user.added'> | IdmEventOf<'idm.user.modified'>;

/** Why a user event left the directory as it was. */
export type RecipientIgnoreReason = 'stale-event' | 'no-address' | 'unchanged';

/** The outcome of applying one user event to the directory. */
export type RecipientDecision =
  { readonly kind: 'save'; readonly recipient: Recipient } | { readonly kind: 'ignore'; readonly reason: RecipientIgnoreReason };

/**
 * Applies a `UserAdded` / `UserModified` to the stored recipient.
 *
 * `seq` is the event's stream sequence: a redelivered older event (seq ≤ updatedSeq) must not
 * overwrite a newer address. `UserModified` only carries `email` when it changed, and the display
 * name arrives as `changes.displayName` (null clears it).
 */
export function evolveRecipient(state: Recipient | undefined, event: RecipientEvent, seq: number): RecipientDecision {
  if (state && seq <= state.updatedSeq) return { kind: 'ignore', reason: 'stale-event' };
  if (event.type === 'idm.user.added') {
    // No address yet is still worth keeping: the display name greets the user once a UserModified brings the address.
    return {
      kind: 'save',
      recipient: {
        userId: event.data.userId,
        email: event.data.email ?? null,
        displayName: event.data.displayName ?? null,
        updatedSeq: seq,
      },
    };
  }
  const changes = event.data.changes;
  const email = event.data.email ?? state?.email;
  // A modification of a user we never saw added, without an address, gives us nobody to write to.
  if (email === undefined || (email === null && !state)) return { kind: 'ignore', reason: 'no-address' };
  const displayName = 'displayName' in changes ? firstValue(changes.displayName) : (state?.displayName ?? null);
  if (state && state.email === email && state.displayName === displayName) return { kind: 'ignore', reason: 'unchanged' };
  return { kind: 'save', recipient: { userId: event.data.userId, email, displayName, updatedSeq: seq } };
}

function firstValue(value: string | readonly string[] | boolean | null | undefined): string | null {
  if (value === null || value === undefined || typeof value === 'boolean') return null;
  if (typeof value === 'string') return value;
  return value[0] ?? null;
}
