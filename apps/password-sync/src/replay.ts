import 'reflect-metadata';
import { errorMessage } from '@idm/config';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  checkAppStopped,
  connectNats,
  messagingConfigFromEnv,
  natsProgressSink,
  parseReplayArgs,
  stdoutSink,
  teeSink,
} from '@idm/messaging';
import { CommandSubjects } from '@idm/contracts';
import { readDatabaseSettings } from '@idm/persistence';
import { resolveExpirationPolicy } from './expiry/expiration-policy.js';
import { openPasswordDatabase } from './password-cache/password-database.js';
import { replayPasswordSync } from './replay/password-sync-replay.js';

/**
 * `node dist/apps/password-sync/replay.js [--from-seq N | --since TIME] [--dry-run] [--force]`:
 * rebuilds `password_cache` from the log. No key, no target, no publisher: only NATS (to read) and
 * the database, opened with the app's own settings (`DATABASE_URL`, `DATA_DIR`, `DATABASE_SCHEMA`).
 * `PASSWORD_EXPIRATION_MINUTES` / `SOURCE_POLLING_INTERVAL_SECONDS` give the expiry of replayed
 * changes. Progress and summary are JSON lines on stdout; a failure is an `error` line and exit
 * code 1. Refused while password-sync answers its status subject, unless `--force`.
 */
async function main(): Promise<void> {
  const args = parseReplayArgs(process.argv.slice(2));
  const database = readDatabaseSettings();
  const policy = resolveExpirationPolicy(process.env);
  const messaging = messagingConfigFromEnv('password-sync-replay');
  const nc = await connectNats({ ...messaging.connection, connectTimeoutMs: 5_000 });
  const dataSource = await checkAppStopped(nc, {
    app: 'password-sync',
    statusSubject: CommandSubjects.PasswordSyncStatus,
    force: args.force,
  })
    .then(() => openPasswordDatabase({ ...database, schema: args.schema ?? database.schema }))
    .catch(async (err: unknown) => {
      await nc.close();
      throw err;
    });
  try {
    await replayPasswordSync(
      { dataSource, js: jetstream(nc), jsm: await jetstreamManager(nc), sink: teeSink(stdoutSink, natsProgressSink(nc, 'password-sync')) },
      {
        stream: messaging.stream.name,
        policy,
        dryRun: args.dryRun,
        fromSeq: args.fromSeq,
        since: args.since,
        batchSize: args.batchSize,
      },
    );
  } finally {
    await dataSource.destroy();
    // Drain, not close: the last progress lines (the summary) reach the console.
    await nc.drain();
  }
}

main().catch((err: unknown) => {
  stdoutSink({ kind: 'error', message: errorMessage(err) });
  process.exitCode = 1;
});
