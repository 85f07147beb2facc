import type { IdmEventOf } from '@idm/contracts';
import { newlyQueuedEmail, type PendingEmail } from './pending-email.js';

/** What applying an `EmailQueued` from the log does to the row of (user, email type). */
export type QueuedEmailChange =
  { readonly kind: 'save'; readonly pending: PendingEmail } | { readonly kind: 'ignore'; readonly reason: 'already-pending' };

/**
 * Rebuilds a flag from its `EmailQueued` (replay only: live, the row is written by the flag
 * decider before the event is appended). The event carries everything the row holds at birth —
 * its id is `queuedEventId`, its time both `queuedAt` and `firstQueuedAt` — except the template
 * context, which only the causing event knows: pass it (empty when the cause is not at hand).
 * A flag already pending absorbs the event, as the decider does live.
 */
export function evolveQueuedEmail(
  state: PendingEmail | undefined,
  event: IdmEventOf<'idm.email.queued'>,
  context: Readonly<Record<string, string>>,
): QueuedEmailChange {
  if (state) return { kind: 'ignore', reason: 'already-pending' };
  return {
    kind: 'save',
    pending: newlyQueuedEmail({
      userId: event.data.userId,
      emailType: event.data.emailType,
      queuedEventId: event.id,
      at: new Date(event.time),
      context: { ...context },
    }),
  };
}
