import type { z } from 'zod';
import { CommandSubjects, passwordChangeReplySchema, passwordChangeRequestSchema, type CommandSubject } from './commands.js';
import {
  directorySourceStatusReplySchema,
  emailPreviewQuerySchema,
  emailPreviewReplySchema,
  emptyQuerySchema,
  notifierStatusReplySchema,
  notifierUserReplySchema,
  passwordSyncStatusReplySchema,
  passwordSyncUserReplySchema,
  scheduleFireReplySchema,
  scheduleFireRequestSchema,
  scheduleListReplySchema,
  userQuerySchema,
} from './operator-queries.js';

/** One request/reply subject with its bodies, as the AsyncAPI document lists it. */
export interface CommandDescription {
  /** Channel and message name stem in the AsyncAPI document (`<name>`, `<name>Request`, `<name>Reply`). */
  readonly name: string;
  /** AsyncAPI operation id. */
  readonly operation: string;
  readonly subject: CommandSubject;
  /** The app that answers (in a queue group). */
  readonly answeredBy: 'password-sync' | 'notifier' | 'scheduler' | 'directory-source';
  readonly summary: string;
  /** `operator`: a read-only query or an operator action; `command`: a change asked by another system. */
  readonly tag: 'command' | 'operator';
  readonly request: z.ZodType;
  readonly reply: z.ZodType;
}

/**
 * Every subject of {@link CommandSubjects} with its request and reply schema, in document order.
 * A spec checks that no subject is missing.
 */
export const COMMAND_CATALOGUE: readonly CommandDescription[] = [
  {
    name: 'PasswordChange',
    operation: 'changePassword',
    subject: CommandSubjects.PasswordChange,
    answeredBy: 'password-sync',
    summary: 'Ask idm-events to apply a new password; it records `idm.password.changed` (without the password) and replies.',
    tag: 'command',
    request: passwordChangeRequestSchema,
    reply: passwordChangeReplySchema,
  },
  {
    name: 'PasswordSyncStatus',
    operation: 'askPasswordSyncStatus',
    subject: CommandSubjects.PasswordSyncStatus,
    answeredBy: 'password-sync',
    summary: 'The password cache: counts by failure reason, nearest expiry, next retry, sealing keys. Never a password.',
    tag: 'operator',
    request: emptyQuerySchema,
    reply: passwordSyncStatusReplySchema,
  },
  {
    name: 'PasswordSyncUser',
    operation: 'askPasswordSyncUser',
    subject: CommandSubjects.PasswordSyncUser,
    answeredBy: 'password-sync',
    summary: 'The state of one user’s cached password. Never the password.',
    tag: 'operator',
    request: userQuerySchema,
    reply: passwordSyncUserReplySchema,
  },
  {
    name: 'NotifierStatus',
    operation: 'askNotifierStatus',
    subject: CommandSubjects.NotifierStatus,
    answeredBy: 'notifier',
    summary: 'Pending emails by type and the notifier replicas with their claims.',
    tag: 'operator',
    request: emptyQuerySchema,
    reply: notifierStatusReplySchema,
  },
  {
    name: 'NotifierUser',
    operation: 'askNotifierUser',
    subject: CommandSubjects.NotifierUser,
    answeredBy: 'notifier',
    summary: 'One user’s pending emails.',
    tag: 'operator',
    request: userQuerySchema,
    reply: notifierUserReplySchema,
  },
  {
    name: 'NotifierPreview',
    operation: 'previewEmails',
    subject: CommandSubjects.NotifierPreview,
    answeredBy: 'notifier',
    summary: 'The email templates rendered for one user as they would be sent; nothing is sent or stored.',
    tag: 'operator',
    request: emailPreviewQuerySchema,
    reply: emailPreviewReplySchema,
  },
  {
    name: 'SchedulerList',
    operation: 'listSchedules',
    subject: CommandSubjects.SchedulerList,
    answeredBy: 'scheduler',
    summary: 'Every schedule with its next run and last tick; the scheduler’s status.',
    tag: 'operator',
    request: emptyQuerySchema,
    reply: scheduleListReplySchema,
  },
  {
    name: 'SchedulerFire',
    operation: 'fireSchedule',
    subject: CommandSubjects.SchedulerFire,
    answeredBy: 'scheduler',
    summary: 'Append an `idm.bulk-task.tick` for one schedule now.',
    tag: 'operator',
    request: scheduleFireRequestSchema,
    reply: scheduleFireReplySchema,
  },
  {
    name: 'DirectorySourceStatus',
    operation: 'askDirectorySourceStatus',
    subject: CommandSubjects.DirectorySourceStatus,
    answeredBy: 'directory-source',
    summary: 'The directory poller: snapshot size, last committed poll, failures in a row.',
    tag: 'operator',
    request: emptyQuerySchema,
    reply: directorySourceStatusReplySchema,
  },
];
