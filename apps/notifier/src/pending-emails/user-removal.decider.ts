import { createEvent, type IdmEventOf } from '@idm/contracts';
import type { PendingEmail } from './pending-email.js';

/** What the notifier does when a user leaves the source directory. */
export interface UserRemovalDecision {
  /** The recipient row is deleted: no further mail is written to a removed account. */
  readonly forgetRecipient: true;
  /** One `EmailAbandoned` per pending email; the shell applies them (clears the flags) in the transaction that emits them. */
  readonly events: readonly IdmEventOf<'idm.email.abandoned'>[];
}

/** The text every email abandoned for a removal carries as `lastError`. */
export function removalError(reason: IdmEventOf<'idm.user.removed'>['data']['reason']): string {
  return `user removed from the source directory (${reason})`;
}

/**
 * `UserRemoved`: forget the recipient and abandon every pending email of the user. Abandon ids are
 * derived from (removal event, email type), so a redelivered removal appends nothing twice.
 * `attempts` is what the email had reached; the last error says why it stops.
 */
export function decideUserRemoval(
  event: IdmEventOf<'idm.user.removed'>,
  pending: readonly PendingEmail[],
  ctx: { readonly now: Date; readonly source: string },
): UserRemovalDecision {
  const lastError = removalError(event.data.reason);
  const events = [...pending]
    .sort((a, b) => a.emailType.localeCompare(b.emailType))
    .map((p) =>
      createEvent(
        'idm.email.abandoned',
        p.userId,
        { userId: p.userId, emailType: p.emailType, attempts: p.attempts, lastError },
        { source: ctx.source, time: ctx.now, causedBy: event, discriminator: [p.emailType] },
      ),
    );
  return { forgetRecipient: true, events };
}
