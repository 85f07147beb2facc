import { createEvent, deriveEventId, type CloudEvent, type IdmEvent, type IdmEventOf } from '@idm/contracts';
import { emailTypesFor, type EmailRules } from '../email-rules/email-rules.config.js';
import { newlyQueuedEmail, type PendingEmail } from './pending-email.js';

/** Why an event raised no email. */
export type EmailFlagIgnoreReason = 'no-rule' | 'already-pending';

/** One newly raised flag: the row to store and the event to append. */
export interface QueuedEmail {
  readonly pending: PendingEmail;
  readonly event: IdmEventOf<'idm.email.queued'>;
}

/** The outcome of offering one event to the email rules. */
export type EmailFlagDecision =
  | { readonly kind: 'queue'; readonly emails: readonly QueuedEmail[]; readonly alreadyPending: readonly string[] }
  | { readonly kind: 'ignore'; readonly reason: EmailFlagIgnoreReason };

/** What the flag decider needs besides the event. */
export interface EmailFlagContext {
  readonly rules: EmailRules;
  /** Email types already pending for the event's user. */
  readonly pendingTypes: ReadonlySet<string>;
  readonly now: Date;
  readonly source: string;
}

/**
 * Raises the email flags an event calls for.
 *
 * A type already pending for the user stays one email (the later event is absorbed, since the
 * email is rendered from current data at send time). An unknown recipient is NOT a reason to
 * ignore: events of different subjects may be applied out of order, so the address can still
 * arrive; delivery retries until the attempt/age limits give up.
 */
export function decideEmailFlags(event: IdmEvent, ctx: EmailFlagContext): EmailFlagDecision {
  const types = emailTypesFor(ctx.rules, event.type);
  if (types.length === 0) return { kind: 'ignore', reason: 'no-rule' };
  const userId = event.subject;
  const alreadyPending = types.filter((t) => ctx.pendingTypes.has(t));
  const fresh = types.filter((t) => !ctx.pendingTypes.has(t));
  if (fresh.length === 0) return { kind: 'ignore', reason: 'already-pending' };
  const emails = fresh.map((emailType): QueuedEmail => {
    const pending = newlyQueuedEmail({
      userId,
      emailType,
      queuedEventId: queuedEventIdFor(event, emailType),
      at: ctx.now,
      context: contextOf(event),
    });
    return { pending, event: queuedEventOf(event, pending, ctx.source) };
  });
  return { kind: 'queue', emails, alreadyPending };
}

/** Template values that only the causing event knows; everything else is read at send time. */
export function contextOf(event: IdmEvent): Record<string, string> {
  switch (event.type) {
    case 'idm.password.sync-failed':
      return { syncFailureReason: event.data.reason };
    case 'idm.password.changed':
      return { passwordOrigin: event.data.origin };
    default:
      return {};
  }
}

/** The id the `EmailQueued` of (cause, email type) gets: the same on every retry of the cause. */
export function queuedEventIdFor(cause: Pick<CloudEvent, 'id' | 'subject'>, emailType: string): string {
  return deriveEventId(cause.id, 'idm.email.queued', cause.subject, emailType);
}

/**
 * The `EmailQueued` for a pending row and its cause: deterministic (id, time from the row), so a
 * retried handler derives the identical event and the stream drops a repeat.
 */
export function queuedEventOf(cause: IdmEvent, pending: PendingEmail, source: string): IdmEventOf<'idm.email.queued'> {
  const { userId, emailType } = pending;
  return createEvent(
    'idm.email.queued',
    userId,
    { userId, emailType, causationEvent: { id: cause.id, type: cause.type } },
    { source, time: pending.queuedAt, causedBy: cause, discriminator: [emailType] },
  );
}
