import { z } from 'zod';

// Bodies of the operator queries (`idm status`, `idm user`, the console). Replies are described
// field by field for readers of the AsyncAPI document, and left open (`looseObject`): an app may
// add a field without a contract bump, and an operator tool ignores fields it does not know.

const isoOrNull = z.string().nullable().describe('ISO-8601 timestamp, or null when there is none.');
const version = z.string().describe("The answering app's version (package.json).");

/** Request body of a status or list query: nothing is read from it; send `{}`. */
export const emptyQuerySchema = z.looseObject({}).describe('No parameters; send `{}` (the body is ignored).');

/** Request body of the per-user queries (`idm.cmd.notifier.user`, `idm.cmd.password-sync.user`). */
export const userQuerySchema = z.object({ userId: z.string().min(1).describe('The user id.') }).describe('Ask about one user.');

/** Request body of `idm.cmd.notifier.preview`: every template, or the one of `emailType`. */
export const emailPreviewQuerySchema = z
  .object({
    userId: z.string().min(1).describe('The user id (an unknown user gets sample values).'),
    emailType: z.string().min(1).optional().describe('Only this email type; default every template.'),
  })
  .describe('Render the email templates for a user, as they would be sent. Nothing is sent or stored.');

/** Request body of `idm.cmd.scheduler.fire`. */
export const scheduleFireRequestSchema = z
  .object({ schedule: z.string().min(1).describe('The schedule name.') })
  .describe('Fire one schedule now.');

/** Reply of any query the app could not answer: a bad request, an unknown name, a failure. */
export const queryFailureSchema = z
  .object({ ok: z.literal(false), error: z.string().describe('What went wrong; never echoes a secret.') })
  .describe('The query failed.');

const answered = <T extends z.ZodRawShape>(shape: T, description: string) =>
  z
    .union([z.looseObject({ ok: z.literal(true), ...shape }).describe(description), queryFailureSchema])
    .describe(`${description} Or \`{ ok: false, error }\`.`);

/** Reply of `idm.cmd.notifier.status`. */
export const notifierStatusReplySchema = answered(
  {
    version,
    recipients: z.number().int().describe('Users the notifier knows.'),
    pending: z.number().int().describe('Emails waiting to be sent.'),
    pendingByType: z.record(z.string(), z.number().int()).describe('Pending emails per email type.'),
    oldestPending: isoOrNull,
    instances: z
      .array(
        z.looseObject({
          instanceId: z.string(),
          startedAt: z.string(),
          heartbeatAt: z.string(),
          live: z.boolean().describe('Its lease is current; a lapsed instance’s claims are taken over at the next tick.'),
          claims: z.number().int(),
        }),
      )
      .describe('Every notifier replica with a lease.'),
  },
  'The notifier’s pending emails and replicas.',
);

/** Reply of `idm.cmd.notifier.user`. */
export const notifierUserReplySchema = answered(
  {
    userId: z.string(),
    known: z.boolean().describe('The notifier has seen the user.'),
    pending: z.array(
      z.looseObject({
        emailType: z.string(),
        attempts: z.number().int(),
        lastError: z.string().nullable(),
        firstQueuedAt: z.string(),
        claimed: z.boolean(),
      }),
    ),
  },
  'One user’s pending emails.',
);

/** Reply of `idm.cmd.notifier.preview`. */
export const emailPreviewReplySchema = answered(
  {
    userId: z.string(),
    known: z.boolean(),
    previews: z.array(z.looseObject({ emailType: z.string(), subject: z.string(), html: z.string(), text: z.string() })),
  },
  'The rendered templates.',
);

/** Reply of `idm.cmd.password-sync.status`. Metadata only: never a password. */
export const passwordSyncStatusReplySchema = answered(
  {
    version,
    cached: z.number().int().describe('Passwords cached (waiting to be applied).'),
    cachedByReason: z.record(z.string(), z.number().int()).describe('Cached passwords per last failure reason (`none`: not tried yet).'),
    nearestExpiry: isoOrNull,
    nextRetry: isoOrNull,
    keys: z
      .looseObject({
        current: z.string(),
        previous: z.array(z.string()),
        cachedByKey: z.record(z.string(), z.number().int()),
        sealedWithPreviousKey: z.number().int().describe('0 means the previous keys can be removed.'),
        sealedWithUnknownKey: z.number().int(),
      })
      .describe('Which sealing keys the cache uses.'),
  },
  'The password cache, without secrets.',
);

/** Reply of `idm.cmd.password-sync.user`. Metadata only: never a password. */
export const passwordSyncUserReplySchema = answered(
  {
    userId: z.string(),
    entry: z
      .looseObject({
        state: z.string(),
        reason: z.string().nullable(),
        message: z.string().nullable(),
        attempts: z.number().int(),
        changedAt: z.string(),
        expiresAt: isoOrNull,
        nextRetryAt: isoOrNull,
        settledAt: isoOrNull,
      })
      .nullable()
      .describe('The cached password’s state; null when none is cached.'),
  },
  'One user’s cached password, without the secret.',
);

/** Reply of `idm.cmd.scheduler.list`; it doubles as the scheduler's status. */
export const scheduleListReplySchema = answered(
  {
    version,
    schedules: z.array(
      z.looseObject({
        name: z.string(),
        cron: z.string(),
        timezone: z.string(),
        task: z.string(),
        enabled: z.boolean(),
        nextRun: isoOrNull,
        lastTick: z
          .looseObject({ id: z.string(), scheduledFor: z.string(), firedAt: z.string(), catchUp: z.boolean() })
          .nullable()
          .describe('The last `idm.bulk-task.tick` of the schedule in the stream.'),
      }),
    ),
  },
  'Every schedule.',
);

/** Reply of `idm.cmd.scheduler.fire`. */
export const scheduleFireReplySchema = answered(
  { eventId: z.string().describe('Id of the `idm.bulk-task.tick` event appended.') },
  'The tick was appended.',
);

/** Reply of `idm.cmd.directory-source.status`. */
export const directorySourceStatusReplySchema = answered(
  {
    version,
    snapshotUsers: z.number().int().describe('Users in the snapshot (the directory as of the last committed poll).'),
    lastCommittedAt: isoOrNull.describe('When the last poll committed its checkpoint; null before the first.'),
    lastSuccessAt: isoOrNull.describe('When this process last polled successfully; null if it has not yet.'),
    consecutiveFailures: z.number().int().describe('Failed polls in a row.'),
    lastError: z.string().nullable().describe('Why the last poll failed; null after a success.'),
  },
  'The directory poller.',
);

/** What directory-source answers on `idm.cmd.directory-source.status`. */
export type DirectorySourceStatusReply = z.input<typeof directorySourceStatusReplySchema>;
