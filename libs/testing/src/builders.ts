import { createEvent, EventTypes, type CreateEventOptions, type EventDataMap, type EventType, type IdmEventOf } from '@idm/contracts';
import { FIXED_NOW } from './given-when-then.js';

/** Stamp overrides for a built event; everything defaults (source `/idm/test`, time {@link FIXED_NOW}). */
export type BuildOptions = Partial<CreateEventOptions> & {
  /** CloudEvents subject; defaults to the data's `userId` (or `schedule` for ticks). */
  readonly subject?: string;
};

function build<T extends EventType>(type: T, subject: string, data: EventDataMap[T], options: BuildOptions): IdmEventOf<T> {
  const { subject: subjectOverride, ...stamp } = options;
  return createEvent(type, subjectOverride ?? subject, data, { source: '/idm/test', time: FIXED_NOW, ...stamp });
}

const at = FIXED_NOW.toISOString();

/**
 * Valid events for specs, one builder per `EventTypes` entry, built with `createEvent` (so data is
 * validated). Every field has a default — user `u-1001`, email `NEW_USER`, time {@link FIXED_NOW} —
 * and any field can be overridden: `anEvent.emailSent({ attempt: 2 }, { causedBy: queued })`.
 * Ids are random unless `options.id` or `options.causedBy` is given.
 */
export const anEvent = {
  userAdded: (data: Partial<EventDataMap['idm.user.added']> = {}, options: BuildOptions = {}) => {
    const d = { userId: 'u-1001', email: 'ada@example.com', displayName: 'Ada Lovelace', ...data };
    return build(EventTypes.UserAdded, d.userId, d, options);
  },
  userModified: (data: Partial<EventDataMap['idm.user.modified']> = {}, options: BuildOptions = {}) => {
    const d = { userId: 'u-1001', changes: { displayName: 'Ada King' }, ...data };
    return build(EventTypes.UserModified, d.userId, d, options);
  },
  userRemoved: (data: Partial<EventDataMap['idm.user.removed']> = {}, options: BuildOptions = {}) => {
    const d = { userId: 'u-1001', reason: 'deleted' as const, ...data };
    return build(EventTypes.UserRemoved, d.userId, d, options);
  },
  passwordChanged: (data: Partial<EventDataMap['idm.password.changed']> = {}, options: BuildOptions = {}) => {
    const d = { userId: 'u-1001', origin: 'source' as const, changedAt: at, ...data };
    return build(EventTypes.PasswordChanged, d.userId, d, options);
  },
  passwordSynced: (data: Partial<EventDataMap['idm.password.synced']> = {}, options: BuildOptions = {}) => {
    const d = { userId: 'u-1001', target: 'ldap', attempt: 1, ...data };
    return build(EventTypes.PasswordSynced, d.userId, d, options);
  },
  passwordSyncFailed: (data: Partial<EventDataMap['idm.password.sync-failed']> = {}, options: BuildOptions = {}) => {
    const d = {
      userId: 'u-1001',
      reason: 'target-unavailable' as const,
      message: 'directory unavailable',
      attempt: 1,
      expiresAt: null,
      ...data,
    };
    return build(EventTypes.PasswordSyncFailed, d.userId, d, options);
  },
  passwordExpired: (data: Partial<EventDataMap['idm.password.expired']> = {}, options: BuildOptions = {}) => {
    const d = { userId: 'u-1001', cachedAt: at, ...data };
    return build(EventTypes.PasswordExpired, d.userId, d, options);
  },
  bulkTaskTick: (data: Partial<EventDataMap['idm.bulk-task.tick']> = {}, options: BuildOptions = {}) => {
    const d = { schedule: 'email-every-minute', task: 'send-emails', scheduledFor: at, firedAt: at, catchUp: false, ...data };
    return build(EventTypes.BulkTaskTick, d.schedule, d, options);
  },
  emailQueued: (data: Partial<EventDataMap['idm.email.queued']> = {}, options: BuildOptions = {}) => {
    const d = { userId: 'u-1001', emailType: 'NEW_USER', causationEvent: { id: 'cause-1', type: EventTypes.UserAdded }, ...data };
    return build(EventTypes.EmailQueued, d.userId, d, options);
  },
  emailSent: (data: Partial<EventDataMap['idm.email.sent']> = {}, options: BuildOptions = {}) => {
    const d = { userId: 'u-1001', emailType: 'NEW_USER', messageId: '<m-1@idm.test>', attempt: 1, tick: 'tick-1', ...data };
    return build(EventTypes.EmailSent, d.userId, d, options);
  },
  emailFailed: (data: Partial<EventDataMap['idm.email.failed']> = {}, options: BuildOptions = {}) => {
    const d = {
      userId: 'u-1001',
      emailType: 'NEW_USER',
      error: '451 try again later',
      permanent: false,
      attempt: 1,
      tick: 'tick-1',
      ...data,
    };
    return build(EventTypes.EmailFailed, d.userId, d, options);
  },
  emailAbandoned: (data: Partial<EventDataMap['idm.email.abandoned']> = {}, options: BuildOptions = {}) => {
    const d = { userId: 'u-1001', emailType: 'NEW_USER', attempts: 3, lastError: '550 mailbox unavailable', ...data };
    return build(EventTypes.EmailAbandoned, d.userId, d, options);
  },
} satisfies {
  [K in keyof typeof EventTypes as Uncapitalize<K>]: (
    data?: Partial<EventDataMap[(typeof EventTypes)[K]]>,
    options?: BuildOptions,
  ) => IdmEventOf<(typeof EventTypes)[K]>;
};
