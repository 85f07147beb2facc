import { EventTypes, type EventType, type IdmEvent } from '@idm/contracts';

/** One line of a user's audit trail. */
export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly kind: 'password-synced' | 'password-failed' | 'password-expired' | 'email-sent' | 'email-failed' | 'email-abandoned';
  readonly detail: string;
}

/** The projection: every password and email outcome, per user, in log order, with the last applied sequence. */
export interface AuditTrail {
  readonly lastSeq: number;
  readonly byUser: ReadonlyMap<string, readonly AuditEntry[]>;
}

/** An empty trail. */
export const EMPTY_TRAIL: AuditTrail = { lastSeq: 0, byUser: new Map() };

/** The event types this service subscribes to: outcomes only, never the whole log. */
export const AUDIT_TYPES: readonly EventType[] = [
  EventTypes.PasswordSynced,
  EventTypes.PasswordSyncFailed,
  EventTypes.PasswordExpired,
  EventTypes.EmailSent,
  EventTypes.EmailFailed,
  EventTypes.EmailAbandoned,
];

function entryOf(event: IdmEvent, seq: number): AuditEntry | undefined {
  const base = { seq, at: event.time };
  switch (event.type) {
    case 'idm.password.synced':
      return { ...base, kind: 'password-synced', detail: `applied to ${event.data.target} (attempt ${event.data.attempt})` };
    case 'idm.password.sync-failed':
      return { ...base, kind: 'password-failed', detail: `${event.data.reason}: ${event.data.message}` };
    case 'idm.password.expired':
      return { ...base, kind: 'password-expired', detail: `cached at ${event.data.cachedAt}` };
    case 'idm.email.sent':
      return { ...base, kind: 'email-sent', detail: `${event.data.emailType} (attempt ${event.data.attempt})` };
    case 'idm.email.failed':
      return {
        ...base,
        kind: 'email-failed',
        detail: `${event.data.emailType}: ${event.data.error}${event.data.permanent ? ' (permanent)' : ''}`,
      };
    case 'idm.email.abandoned':
      return { ...base, kind: 'email-abandoned', detail: `${event.data.emailType} after ${event.data.attempts} attempts` };
    default:
      return undefined;
  }
}

/**
 * Applies one event at stream sequence `seq`. Pure and idempotent: a redelivered event (seq ≤
 * lastSeq) changes nothing, so at-least-once delivery needs no inbox here.
 */
export function applyToTrail(trail: AuditTrail, event: IdmEvent, seq: number): AuditTrail {
  if (seq <= trail.lastSeq) return trail;
  const entry = entryOf(event, seq);
  if (!entry) return { ...trail, lastSeq: seq };
  const userId = event.subject;
  const byUser = new Map(trail.byUser);
  byUser.set(userId, [...(byUser.get(userId) ?? []), entry]);
  return { lastSeq: seq, byUser };
}
