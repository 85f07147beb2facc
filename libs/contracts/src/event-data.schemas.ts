import { z } from 'zod';
import { CURRENT_DATA_VERSION } from './envelope.js';
import { EventTypes, type EventType } from './event-types.js';

/** ISO-8601 timestamp with a zone, as produced by `Date.prototype.toISOString()`. */
export const isoTimestamp = z.iso.datetime({ offset: true });

/** A user id: the key of every user event. Any non-empty string; subjects escape what NATS forbids. */
export const userId = z
  .string()
  .min(1)
  .max(256)
  .describe('The user id in the source directory; the key (CloudEvents subject) of the event.');

/** An email type flag, e.g. `NEW_USER`, `PASSWORD_SYNC_FAILED`. */
export const emailType = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]*$/, 'must be UPPER_SNAKE_CASE')
  .describe('The kind of email, e.g. NEW_USER, PASSWORD_CHANGED, PASSWORD_SYNC_FAILED.');

// Booleans since contract 1.1.0: the directory source reports `enabled` (false = account disabled).
const attributeValue = z.union([z.string(), z.array(z.string()), z.boolean(), z.null()]);
const attempt = z.number().int().min(1).describe('Which attempt this was, counting from 1.');

/** Why a password could not be applied to the target directory. */
export const passwordSyncFailureReasons = ['user-not-found', 'policy-violation', 'target-unavailable', 'target-error'] as const;

/** Why a user left the source directory. */
export const userRemovalReasons = ['deleted', 'moved-out-of-scope'] as const;

/** Why a cached password was destroyed before it could be applied, when not plain expiry. */
export const passwordExpiryReasons = ['user-removed'] as const;

/** The data schema of each event type, version 1. The TS types and the AsyncAPI document derive from these. */
export const eventDataSchemas = {
  [EventTypes.UserAdded]: z
    .object({
      userId,
      // Optional since the directory source: many accounts have no mail attribute (AD creates none
      // by default). Additive for readers, so still dataversion 1; a later UserModified carries it.
      email: z.email().optional().describe('The mail address, when the account has one.'),
      displayName: z.string().max(512).optional().describe('The name to greet the user with.'),
      attributes: z
        .record(z.string(), attributeValue)
        .optional()
        .describe('Other directory attributes: name → text, list of texts, true/false or null.'),
    })
    .describe('A user account was created in the source directory. `email` is absent when the account has no mail address yet.'),
  [EventTypes.UserModified]: z
    .object({
      userId,
      email: z.email().optional().describe('The mail address after the change, when the account has one.'),
      changes: z.record(z.string(), attributeValue).describe('Attribute → new value, only for attributes that changed (null = removed).'),
    })
    .describe('Attributes of a user changed in the source directory; `changes` maps attribute → new value.'),
  [EventTypes.UserRemoved]: z
    .object({
      userId,
      reason: z.enum(userRemovalReasons).describe('deleted: the entry is gone; moved-out-of-scope: it left the watched base DN or filter.'),
    })
    .describe('A user account left the source directory: deleted, or moved out of the watched base DN / filter.'),
  [EventTypes.PasswordChanged]: z
    .object({
      userId,
      origin: z.enum(['source', 'vault']).describe('Where the password was changed: the source directory or the vault.'),
      changedAt: isoTimestamp.describe('When the user changed it.'),
    })
    .describe('A user changed their password. Never carries the password itself.'),
  [EventTypes.PasswordSynced]: z
    .object({ userId, target: z.string().min(1).describe('The target directory it was applied to.'), attempt })
    .describe('A cached password was applied to the target directory; the secret has been destroyed.'),
  [EventTypes.PasswordSyncFailed]: z
    .object({
      userId,
      reason: z.enum(passwordSyncFailureReasons).describe('Why the target refused or could not be reached.'),
      message: z.string().describe("The target's error message (never the password)."),
      attempt,
      expiresAt: isoTimestamp.nullable().describe('When the cached password will be destroyed unsynced; null = never.'),
    })
    .describe('Applying a password to the target failed; it stays cached until `expiresAt` (null = never).'),
  [EventTypes.PasswordExpired]: z
    .object({
      userId,
      cachedAt: isoTimestamp.describe('When the destroyed password was cached.'),
      reason: z
        .enum(passwordExpiryReasons)
        .optional()
        .describe('Absent for plain expiry; user-removed when its user left the source directory.'),
    })
    .describe(
      'A cached password was destroyed unsynced: it reached its expiration time (no `reason`), or the user was removed from the source directory (`reason: "user-removed"`).',
    ),
  [EventTypes.BulkTaskTick]: z
    .object({
      schedule: z.string().min(1).describe('The schedule name; the key (CloudEvents subject) of the event.'),
      task: z.string().min(1).describe('What the tick asks for, e.g. email-retry.'),
      scheduledFor: isoTimestamp.describe('The cron slot this tick stands for.'),
      firedAt: isoTimestamp.describe('When the scheduler actually fired it.'),
      catchUp: z.boolean().describe('True for the one tick that stands for slots missed while the scheduler was down.'),
      missedSlots: z
        .number()
        .int()
        .nonnegative()
        .optional()
        .describe(
          'Slots between the previous tick and this one that got no tick of their own and are folded into this one (0 for an on-time tick; absent in events written before it was added).',
        ),
    })
    .describe('A cron schedule fired. `catchUp` marks the single tick that stands for slots missed during downtime.'),
  [EventTypes.EmailQueued]: z
    .object({
      userId,
      emailType,
      causationEvent: z
        .object({ id: z.string().min(1), type: z.string().min(1) })
        .describe('The event that raised the flag: its id and type.'),
    })
    .describe('An event raised an email-type flag for a user; the next bulk-task tick sends it.'),
  [EventTypes.EmailSent]: z
    .object({
      userId,
      emailType,
      messageId: z.string().min(1).describe("The email's Message-ID, as the SMTP server accepted it."),
      attempt,
      tick: z.string().min(1).describe('The id of the BulkTaskTick that sent it.'),
    })
    .describe('The SMTP server accepted the email. Applying this event clears the flag.'),
  [EventTypes.EmailFailed]: z
    .object({
      userId,
      emailType,
      error: z.string().describe("The SMTP server's or transport's error."),
      permanent: z.boolean().describe('True for a permanent rejection (5xx): the email is then abandoned.'),
      attempt,
      tick: z.string().min(1).describe('The id of the BulkTaskTick that tried it.'),
    })
    .describe('Sending failed. A transient failure leaves the flag for the next tick.'),
  [EventTypes.EmailAbandoned]: z
    .object({
      userId,
      emailType,
      attempts: z.number().int().min(0).describe('How many times sending was tried.'),
      lastError: z.string().describe('The error of the last attempt.'),
    })
    .describe('The email will not be sent: permanent rejection, or the attempt / age limit was reached. The flag is cleared.'),
} as const satisfies Record<EventType, z.ZodType>;

/** The data payload of each event type. */
export type EventDataMap = { [T in EventType]: z.output<(typeof eventDataSchemas)[T]> };

/**
 * The current `dataversion` of each type. Bump one entry when its schema changes incompatibly and
 * register an upcaster from the old version in the decoder; old events then still decode.
 */
export const eventDataVersions = {
  [EventTypes.UserAdded]: CURRENT_DATA_VERSION,
  [EventTypes.UserModified]: CURRENT_DATA_VERSION,
  [EventTypes.UserRemoved]: CURRENT_DATA_VERSION,
  [EventTypes.PasswordChanged]: CURRENT_DATA_VERSION,
  [EventTypes.PasswordSynced]: CURRENT_DATA_VERSION,
  [EventTypes.PasswordSyncFailed]: CURRENT_DATA_VERSION,
  [EventTypes.PasswordExpired]: CURRENT_DATA_VERSION,
  [EventTypes.BulkTaskTick]: CURRENT_DATA_VERSION,
  [EventTypes.EmailQueued]: CURRENT_DATA_VERSION,
  [EventTypes.EmailSent]: CURRENT_DATA_VERSION,
  [EventTypes.EmailFailed]: CURRENT_DATA_VERSION,
  [EventTypes.EmailAbandoned]: CURRENT_DATA_VERSION,
} as const satisfies Record<EventType, string>;

/**
 * The `data` field that the CloudEvents `subject` (and so the NATS subject key) must equal:
 * the user id for user, password and email events, the schedule name for ticks.
 * Producers and the decoder enforce it, so a key filter such as `idm.*.*.u1001` sees every event
 * about that user.
 */
export const eventSubjectFields = {
  [EventTypes.UserAdded]: 'userId',
  [EventTypes.UserModified]: 'userId',
  [EventTypes.UserRemoved]: 'userId',
  [EventTypes.PasswordChanged]: 'userId',
  [EventTypes.PasswordSynced]: 'userId',
  [EventTypes.PasswordSyncFailed]: 'userId',
  [EventTypes.PasswordExpired]: 'userId',
  [EventTypes.BulkTaskTick]: 'schedule',
  [EventTypes.EmailQueued]: 'userId',
  [EventTypes.EmailSent]: 'userId',
  [EventTypes.EmailFailed]: 'userId',
  [EventTypes.EmailAbandoned]: 'userId',
} as const satisfies { [T in EventType]: keyof EventDataMap[T] & string };

/** The CloudEvents `subject` an event of `type` with `data` must carry (see {@link eventSubjectFields}). */
export function subjectOfData<T extends EventType>(type: T, data: EventDataMap[T]): string {
  return String((data as Record<string, unknown>)[eventSubjectFields[type]]);
}

export type UserAddedData = EventDataMap[typeof EventTypes.UserAdded];
export type UserModifiedData = EventDataMap[typeof EventTypes.UserModified];
export type UserRemovedData = EventDataMap[typeof EventTypes.UserRemoved];
export type PasswordChangedData = EventDataMap[typeof EventTypes.PasswordChanged];
export type PasswordSyncedData = EventDataMap[typeof EventTypes.PasswordSynced];
export type PasswordSyncFailedData = EventDataMap[typeof EventTypes.PasswordSyncFailed];
export type PasswordExpiredData = EventDataMap[typeof EventTypes.PasswordExpired];
export type BulkTaskTickData = EventDataMap[typeof EventTypes.BulkTaskTick];
export type EmailQueuedData = EventDataMap[typeof EventTypes.EmailQueued];
export type EmailSentData = EventDataMap[typeof EventTypes.EmailSent];
export type EmailFailedData = EventDataMap[typeof EventTypes.EmailFailed];
export type EmailAbandonedData = EventDataMap[typeof EventTypes.EmailAbandoned];
/** Why a password sync attempt failed. */
export type PasswordSyncFailureReason = (typeof passwordSyncFailureReasons)[number];
/** Why a user left the source directory. */
export type UserRemovalReason = (typeof userRemovalReasons)[number];
/** Why a cached password was destroyed early (absent for plain expiry). */
export type PasswordExpiryReason = (typeof passwordExpiryReasons)[number];
