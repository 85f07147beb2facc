import { z } from 'zod';
import { userId } from './event-data.schemas.js';
import { LONE_SURROGATE } from './subjects.js';

/**
 * Every core-NATS request/reply subject of idm-events, defined once: the password command and the
 * operator queries each app answers (in a queue group, so one replica answers). They are never
 * stored in the stream (their prefix `idm.cmd.` is outside {@link STREAM_SUBJECTS}); the password
 * command carries a secret. Request and reply bodies: {@link COMMAND_CATALOGUE}.
 */
export const CommandSubjects = {
  PasswordChange: 'idm.cmd.password.change',
  PasswordSyncStatus: 'idm.cmd.password-sync.status',
  PasswordSyncUser: 'idm.cmd.password-sync.user',
  NotifierStatus: 'idm.cmd.notifier.status',
  NotifierUser: 'idm.cmd.notifier.user',
  NotifierPreview: 'idm.cmd.notifier.preview',
  SchedulerList: 'idm.cmd.scheduler.list',
  SchedulerFire: 'idm.cmd.scheduler.fire',
  DirectorySourceStatus: 'idm.cmd.directory-source.status',
} as const;

/** One of {@link CommandSubjects}. */
export type CommandSubject = (typeof CommandSubjects)[keyof typeof CommandSubjects];

/**
 * The user id of a password command: a user id ({@link userId}) that is also well-formed Unicode
 * without control characters or the NATS wildcards `*` and `>`. Subject keys are escaped, so such
 * an id could be stored safely, but in a command it is a mistake or a probe (`*` meaning "every
 * user"), and a lone surrogate or a control character would corrupt logs and directory filters;
 * refusing it with a clear reply beats caching a password nobody can apply. `.` stays allowed
 * (`jane.doe@example.com`): it is escaped into one subject token.
 */
export const commandUserId = userId
  .refine((v) => !/[*>]/.test(v), 'must not contain the NATS wildcards * or >')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((v) => !/[\u0000-\u001f\u007f-\u009f]/.test(v), 'must not contain control characters')
  .refine((v) => !LONE_SURROGATE.test(v), 'must be well-formed Unicode (no lone surrogate)')
  .describe('The user id. Not `*` or `>`, no control characters; `.` and other characters are escaped in subjects.');

/**
 * Request body of `idm.cmd.password.change`. `password` is a secret: it is marked `writeOnly` /
 * `format: password` in the AsyncAPI document, and must never be logged, stored or put in an event.
 */
export const passwordChangeRequestSchema = z
  .object({
    userId: commandUserId,
    password: z.string().min(1).max(1024).meta({
      writeOnly: true,
      format: 'password',
      description: 'The new password. Secret: never logged, stored in the stream or echoed in a reply.',
    }),
    origin: z.enum(['source', 'vault']).default('source').describe('Where the change was made.'),
  })
  .describe('Ask idm-events to apply a new password for a user.');

/** Reply body of `idm.cmd.password.change`. */
export const passwordChangeReplySchema = z
  .discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), eventId: z.string().describe('Id of the `idm.password.changed` event that was recorded.') }),
    z.object({ ok: z.literal(false), error: z.string().describe('Why the request was refused; never contains the password.') }),
  ])
  .describe('Outcome of a password change request.');

export type PasswordChangeRequest = z.output<typeof passwordChangeRequestSchema>;
export type PasswordChangeReply = z.output<typeof passwordChangeReplySchema>;
