/**
 * The operator query subjects the apps answer (core-NATS request/reply). Apps never import each
 * other, so the subjects are repeated here once for every operator tool (the `idm` CLI and the
 * console); each app's README documents its own.
 */
export const AppSubjects = {
  NotifierStatus: 'idm.cmd.notifier.status',
  NotifierUser: 'idm.cmd.notifier.user',
  NotifierPreview: 'idm.cmd.notifier.preview',
  PasswordSyncStatus: 'idm.cmd.password-sync.status',
  PasswordSyncUser: 'idm.cmd.password-sync.user',
  SchedulerList: 'idm.cmd.scheduler.list',
  SchedulerFire: 'idm.cmd.scheduler.fire',
} as const;

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
  { name: 'scheduler', statusSubject: AppSubjects.SchedulerList, replayable: false },
  { name: 'notifier', statusSubject: AppSubjects.NotifierStatus, replayable: true },
  { name: 'password-sync', statusSubject: AppSubjects.PasswordSyncStatus, replayable: true },
];
