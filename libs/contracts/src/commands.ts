import { z } from 'zod';
import { userId } from './event-data.schemas.js';

/**
 * Core-NATS request/reply commands. They carry secrets, so they are never stored in the stream
 * (their prefix `idm.cmd.` is outside {@link STREAM_SUBJECTS}).
 */
export const CommandSubjects = {
  PasswordChange: 'idm.cmd.password.change',
} as const;

/**
 * Request body of `idm.cmd.password.change`. `password` is a secret: it is marked `writeOnly` /
 * `format: password` in the AsyncAPI document, and must never be logged, stored or put in an event.
 */
export const passwordChangeRequestSchema = z
  .object({
    userId,
    password: z
      .string()
      .min(1)
      .max(1024)
      .meta({ writeOnly: true, format: 'password', description: 'The new password. Secret: never logged, stored in the stream or echoed in a reply.' }),
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
