import { CommandSubjects } from '@idm/contracts';

/**
 * The operator query subjects, for the `idm` CLI. They are defined once, in `CommandSubjects` of
 * `@idm/contracts`; this is the same object under its old name, kept so the CLI need not change.
 */
export const AppSubjects = CommandSubjects;

/** One app an operator tool reports on: its name and the subject it answers a status query on. */
export interface OperatedApp {
  readonly name: string;
  /** Request/reply subject answering `{ ok: true, … }` when the app is up. */
  readonly statusSubject: string;
  /** Whether a replay entry point exists for it (`node dist/apps/<name>/replay.js`). */
  readonly replayable: boolean;
}

/**
 * The apps operator tools list, in display order: the one place to add an app (a new app that
 * answers `idm.cmd.<app>.status` only needs a line here to show up in `idm status` and the console).
 */
export const OPERATED_APPS: readonly OperatedApp[] = [
  { name: 'scheduler', statusSubject: CommandSubjects.SchedulerList, replayable: false },
  { name: 'notifier', statusSubject: CommandSubjects.NotifierStatus, replayable: true },
  { name: 'password-sync', statusSubject: CommandSubjects.PasswordSyncStatus, replayable: true },
  { name: 'directory-source', statusSubject: CommandSubjects.DirectorySourceStatus, replayable: false },
];
