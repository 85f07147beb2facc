import 'reflect-metadata';
import { runReplayMain } from '@idm/messaging';
import { readDatabaseSettings } from '@idm/persistence';
import { openNotifierDatabase } from './notifier.database.js';
import { notifierProjection } from './replay/notifier-projection.js';
import { CommandSubjects } from '@idm/contracts';

/**
 * `node dist/apps/notifier/replay.js [--from-seq N | --since TIME] [--dry-run] [--force]`: rebuilds
 * the notifier's tables from the log. No SMTP, no publisher: only NATS (to read) and the database,
 * opened with the app's own settings (`DATABASE_URL`, `DATA_DIR`, `DATABASE_SCHEMA`). Progress and
 * summary are JSON lines on stdout (`idm replay notifier` draws them); a failure is an `error`
 * line and exit code 1. Refused while the notifier answers its status subject, unless `--force`:
 * claims are not in the log.
 */
await runReplayMain({
  app: 'notifier',
  statusSubject: CommandSubjects.NotifierStatus,
  configure: (args, env) => {
    const database = readDatabaseSettings(env);
    return { ...database, schema: args.schema ?? database.schema };
  },
  open: openNotifierDatabase,
  projection: (dataSource) => notifierProjection(dataSource),
});
