/**
 * The operator query subjects the apps answer. Apps never import each other (the CLI is an app
 * too), so the subjects are repeated here; each app's README documents its own.
 */
export const AppSubjects = {
  NotifierStatus: 'idm.cmd.notifier.status',
  NotifierUser: 'idm.cmd.notifier.user',
  PasswordSyncStatus: 'idm.cmd.password-sync.status',
  PasswordSyncUser: 'idm.cmd.password-sync.user',
  SchedulerList: 'idm.cmd.scheduler.list',
  SchedulerFire: 'idm.cmd.scheduler.fire',
} as const;
