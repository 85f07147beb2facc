import type { IdmEventOf } from '@idm/contracts';
import type { PendingEmail } from './pending-email.js';

/** The notifier's own delivery events, applied to its pending-email table as they are stored (and by replay). */
export type DeliveryEvent = IdmEventOf<'idm.email.sent'> | IdmEventOf<'idm.email.failed'> | IdmEventOf<'idm.email.abandoned'>;

/** What applying a delivery event does to the pending row. */
export type PendingEmailChange =
  | { readonly kind: 'delete' }
  | { readonly kind: 'save'; readonly pending: PendingEmail }
  | { readonly kind: 'ignore'; readonly reason: 'not-pending' };

/**
 * True for the events whose change does not depend on the row's content: `EmailSent` and
 * `EmailAbandoned` delete the row if there is one (see {@link evolvePendingEmail}), so a shell may
 * apply them as one conditional DELETE without reading the row first.
 */
export function clearsFlag(event: DeliveryEvent): event is IdmEventOf<'idm.email.sent'> | IdmEventOf<'idm.email.abandoned'> {
  return event.type === 'idm.email.sent' || event.type === 'idm.email.abandoned';
}

/**
 * Applies `EmailSent` / `EmailFailed` / `EmailAbandoned` to the row of (user, email type).
 *
 * The flag is cleared here, when the event is stored (live: in the transaction that writes it to
 * the outbox; replay: from the log), never when the send returns: if the process dies between the
 * SMTP acceptance and that commit, the row is still there and the email is sent again
 * (at-least-once, same Message-ID).
 */
export function evolvePendingEmail(state: PendingEmail | undefined, event: DeliveryEvent): PendingEmailChange {
  if (!state) return { kind: 'ignore', reason: 'not-pending' };
  switch (event.type) {
    case 'idm.email.sent':
    case 'idm.email.abandoned':
      return { kind: 'delete' };
    case 'idm.email.failed': {
      // Release the claim only if it is still this tick's: another tick may have re-claimed an expired one.
      const released = state.claimedTick === event.data.tick;
      return {
        kind: 'save',
        pending: {
          ...state,
          attempts: Math.max(state.attempts, event.data.attempt),
          lastError: event.data.error,
          ...(released ? { claimedTick: null, claimedAt: null, claimToken: null } : {}),
        },
      };
    }
  }
}
