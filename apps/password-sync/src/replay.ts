import 'reflect-metadata';
import { runReplayMain } from '@idm/messaging';
import { readDatabaseSettings } from '@idm/persistence';
import { resolveExpirationPolicy } from './expiry/expiration-policy.js';
import { openPasswordSyncDatabase } from './password-sync.database.js';
import { passwordSyncProjection } from './replay/password-sync-projection.js';
import { CommandSubjects } from '@idm/contracts';

/**
 * `node dist/apps/password-sync/replay.js [--from-seq N | --since TIME] [--dry-run] [--force]`:
 * rebuilds `password_cache` from the log. No key, no target, no publisher: only NATS (to read) and
 * the database, opened with the app's own settings (`DATABASE_URL`, `DATA_DIR`, `DATABASE_SCHEMA`).
 * `PASSWORD_EXPIRATION_MINUTES` / `SOURCE_POLLING_INTERVAL_SECONDS` give the expiry of replayed
 * changes. Progress and summary are JSON lines on stdout; a failure is an `error` line and exit
 * code 1. Refused while password-sync answers its status subject, unless `--force`.
 */
await runReplayMain({
  app: 'password-sync',
  statusSubject: CommandSubjects.PasswordSyncStatus,
  configure: (args, env) => {
    const database = readDatabaseSettings(env);
    return { database: { ...database, schema: args.schema ?? database.schema }, policy: resolveExpirationPolicy(env) };
  },
  open: ({ database }) => openPasswordSyncDatabase(database),
  projection: (dataSource, { policy }) => passwordSyncProjection(dataSource, policy),
});
