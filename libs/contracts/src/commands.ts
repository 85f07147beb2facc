import { z } from 'zod';
import { userId } from './event-data.schemas.js';

/**
 * Core-NATS request/reply commands. They carry secrets, so they are never stored in the stream
 * (their prefix `idm.cmd.` is outside {@link STREAM_SUBJECTS}).
 */
export const CommandSubjects = {
  PasswordChange: 'idm.cmd.password.change',
} as const;

/** Request body of `idm.cmd.password.change`. */
export const passwordChangeRequestSchema = z.object({
  userId,
  password: z.string().min(1).max(1024),
  origin: z.enum(['source', 'vault']).default('source'),
});

/** Reply body of `idm.cmd.password.change`. */
export const passwordChangeReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), eventId: z.string() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

export type PasswordChangeRequest = z.output<typeof passwordChangeRequestSchema>;
export type PasswordChangeReply = z.output<typeof passwordChangeReplySchema>;
