import type { IdmEvent } from '@idm/contracts';
import { contextOf } from '../pending-emails/email-flag.decider.js';
import { evolveQueuedEmail } from '../pending-emails/email-queued.evolve.js';
import { evolvePendingEmail } from '../pending-emails/pending-email.evolve.js';
import type { PendingEmail } from '../pending-emails/pending-email.js';
import { evolveRecipient, type Recipient } from '../recipients/recipient.decider.js';

/** Everything the notifier keeps about one user: the recipient row and the pending flags by email type. */
export interface NotifierUserState {
  readonly recipient: Recipient | undefined;
  readonly pending: ReadonlyMap<string, PendingEmail>;
}

/** A user the notifier knows nothing about. */
export const EMPTY_USER_STATE: NotifierUserState = { recipient: undefined, pending: new Map() };

/** Template contexts of causing events, by event id: `EmailQueued` names its cause, not the cause's data. */
export type CauseContexts = ReadonlyMap<string, Readonly<Record<string, string>>>;

/** The user an event changes the notifier's tables for, or undefined when it changes none. */
export function notifierUserOf(event: IdmEvent): string | undefined {
  switch (event.type) {
    case 'idm.user.added':
    case 'idm.user.modified':
    case 'idm.user.removed':
    case 'idm.email.queued':
    case 'idm.email.sent':
    case 'idm.email.failed':
    case 'idm.email.abandoned':
      return event.data.userId;
    default:
      return undefined;
  }
}

/** The template context an event gives to the emails it causes, if any (remember it until its `EmailQueued`). */
export function causeContextOf(event: IdmEvent): Record<string, string> | undefined {
  const context = contextOf(event);
  return Object.keys(context).length > 0 ? context : undefined;
}

/**
 * Replays one event of the log onto a user's notifier state, with only the pure evolve
 * functions: no email is sent and nothing is appended. Decisions are the log's own: a flag exists
 * because an `EmailQueued` says so, is cleared because an `EmailSent` / `EmailAbandoned` says so,
 * and counts attempts from `EmailFailed`. Events that only cause decisions live (ticks, password
 * events) change nothing here. Returns the same object when nothing changed.
 */
export function evolveNotifierUser(state: NotifierUserState, event: IdmEvent, seq: number, contexts: CauseContexts): NotifierUserState {
  switch (event.type) {
    case 'idm.user.added':
    case 'idm.user.modified': {
      const d = evolveRecipient(state.recipient, event, seq);
      return d.kind === 'save' ? { ...state, recipient: d.recipient } : state;
    }
    case 'idm.user.removed':
      // The recipient is forgotten; the pending flags go with the EmailAbandoned events that follow in the log.
      return state.recipient === undefined ? state : { ...state, recipient: undefined };
    case 'idm.email.queued': {
      const change = evolveQueuedEmail(state.pending.get(event.data.emailType), event, contexts.get(event.data.causationEvent.id) ?? {});
      return change.kind === 'save' ? withPending(state, event.data.emailType, change.pending) : state;
    }
    case 'idm.email.sent':
    case 'idm.email.failed':
    case 'idm.email.abandoned': {
      const change = evolvePendingEmail(state.pending.get(event.data.emailType), event);
      if (change.kind === 'delete') return withPending(state, event.data.emailType, undefined);
      if (change.kind === 'save') return withPending(state, event.data.emailType, change.pending);
      return state;
    }
    default:
      return state;
  }
}

function withPending(state: NotifierUserState, emailType: string, pending: PendingEmail | undefined): NotifierUserState {
  const next = new Map(state.pending);
  if (pending) next.set(emailType, pending);
  else next.delete(emailType);
  return { ...state, pending: next };
}
