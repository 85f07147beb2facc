import { createEvent, type CloudEvent, type IdmEventOf } from '@idm/contracts';
import type { PendingEmail } from '../pending-emails/pending-email.js';

/** When to stop retrying an email. */
export interface DeliveryLimits {
  /** Attempts after which a transiently failing email is abandoned. */
  readonly maxAttempts: number;
  /** Age (from the first flag) after which an email is abandoned, in milliseconds. */
  readonly maxAgeMs: number;
}

/** The tick being worked and the time, as data. */
export interface DeliveryContext {
  readonly tick: Pick<CloudEvent, 'id' | 'correlationid'>;
  readonly now: Date;
  readonly limits: DeliveryLimits;
  readonly source: string;
}

/** Before sending: send it as attempt n, or give up without contacting the server. */
export type DeliveryPlan =
  | { readonly kind: 'send'; readonly attempt: number }
  | { readonly kind: 'abandon'; readonly why: 'max-attempts' | 'max-age'; readonly events: readonly [IdmEventOf<'idm.email.abandoned'>] };

/** How one send went, already classified (see `classifySmtpFailure`). */
export type SendOutcome =
  { readonly ok: true; readonly messageId: string } | { readonly ok: false; readonly permanent: boolean; readonly error: string };

/** Events a delivery attempt appends. */
export type DeliveryOutputs =
  | readonly [IdmEventOf<'idm.email.sent'>]
  | readonly [IdmEventOf<'idm.email.failed'>]
  | readonly [IdmEventOf<'idm.email.failed'>, IdmEventOf<'idm.email.abandoned'>];

function isTooOld(pending: PendingEmail, ctx: DeliveryContext): boolean {
  return ctx.now.getTime() - pending.firstQueuedAt.getTime() >= ctx.limits.maxAgeMs;
}

function abandoned(pending: PendingEmail, attempts: number, lastError: string, ctx: DeliveryContext): IdmEventOf<'idm.email.abandoned'> {
  return createEvent(
    'idm.email.abandoned',
    pending.userId,
    { userId: pending.userId, emailType: pending.emailType, attempts, lastError },
    { source: ctx.source, time: ctx.now, causedBy: ctx.tick, discriminator: [pending.emailType] },
  );
}

/** Decides, for one claimed email, whether this tick sends it or gives up on it (limits reached). */
export function planDelivery(pending: PendingEmail, ctx: DeliveryContext): DeliveryPlan {
  if (pending.attempts >= ctx.limits.maxAttempts) {
    return {
      kind: 'abandon',
      why: 'max-attempts',
      events: [abandoned(pending, pending.attempts, pending.lastError ?? 'attempt limit reached', ctx)],
    };
  }
  if (isTooOld(pending, ctx)) {
    return {
      kind: 'abandon',
      why: 'max-age',
      events: [abandoned(pending, pending.attempts, pending.lastError ?? 'age limit reached before any attempt', ctx)],
    };
  }
  return { kind: 'send', attempt: pending.attempts + 1 };
}

/**
 * Turns a send outcome into events. Only a successful send yields `EmailSent`; a transient failure
 * yields `EmailFailed` and leaves the flag for the next tick, unless this was the last allowed
 * attempt or the email is too old; a permanent failure is `EmailFailed(permanent)` + `EmailAbandoned`.
 */
export function decideDelivery(pending: PendingEmail, attempt: number, outcome: SendOutcome, ctx: DeliveryContext): DeliveryOutputs {
  const options = { source: ctx.source, time: ctx.now, causedBy: ctx.tick, discriminator: [pending.emailType] };
  const { userId, emailType } = pending;
  if (outcome.ok) {
    return [
      createEvent('idm.email.sent', userId, { userId, emailType, messageId: outcome.messageId, attempt, tick: ctx.tick.id }, options),
    ];
  }
  const failed = createEvent(
    'idm.email.failed',
    userId,
    { userId, emailType, error: outcome.error, permanent: outcome.permanent, attempt, tick: ctx.tick.id },
    options,
  );
  if (outcome.permanent || attempt >= ctx.limits.maxAttempts || isTooOld(pending, ctx)) {
    return [failed, abandoned(pending, attempt, outcome.error, ctx)];
  }
  return [failed];
}
