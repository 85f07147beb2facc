/**
 * Every event type of the idm-events log: the name used in code → the CloudEvents `type`.
 *
 * These strings are public API: other teams subscribe to them. They are frozen once released;
 * a change of meaning needs a new type, or a new `dataversion` plus an upcaster in the decoder.
 */
export const EventTypes = {
  UserAdded: 'idm.user.added',
  UserModified: 'idm.user.modified',
  UserRemoved: 'idm.user.removed',
  PasswordChanged: 'idm.password.changed',
  PasswordSynced: 'idm.password.synced',
  PasswordSyncFailed: 'idm.password.sync-failed',
  PasswordExpired: 'idm.password.expired',
  BulkTaskTick: 'idm.bulk-task.tick',
  EmailQueued: 'idm.email.queued',
  EmailSent: 'idm.email.sent',
  EmailFailed: 'idm.email.failed',
  EmailAbandoned: 'idm.email.abandoned',
} as const;

/** The name of an event in code, e.g. `UserAdded`. */
export type EventName = keyof typeof EventTypes;

/** A CloudEvents `type` of the idm-events log, e.g. `idm.user.added`. */
export type EventType = (typeof EventTypes)[EventName];

/** All event types, in declaration order. */
export const ALL_EVENT_TYPES: readonly EventType[] = Object.values(EventTypes);

/** True when `value` is one of the known event types. */
export function isEventType(value: string): value is EventType {
  return (ALL_EVENT_TYPES as readonly string[]).includes(value);
}

/** The code name of an event type: `idm.user.added` → `UserAdded`. */
export function eventNameOf(type: EventType): EventName {
  const entry = Object.entries(EventTypes).find(([, t]) => t === type);
  if (!entry) throw new Error(`unknown event type ${type}`);
  return entry[0] as EventName;
}
