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
import { openNotifierDatabase } from './notifier.database.js';
import { replayNotifier } from './replay/notifier-replay.js';

/**
 * `node dist/apps/notifier/replay.js [--from-seq N | --since TIME] [--dry-run] [--force]`: rebuilds
 * the notifier's tables from the log. No SMTP, no publisher: only NATS (to read) and the database,
 * opened with the app's own settings (`DATABASE_URL`, `DATA_DIR`, `DATABASE_SCHEMA`). Progress and
 * summary are JSON lines on stdout (`idm replay notifier` draws them); a failure is an `error`
 * line and exit code 1. Refused while the notifier answers its status subject, unless `--force`:
 * claims are not in the log.
 */
async function main(): Promise<void> {
  const args = parseReplayArgs(process.argv.slice(2));
  const database = readDatabaseSettings();
  const messaging = messagingConfigFromEnv('notifier-replay');
  const nc = await connectNats({ ...messaging.connection, connectTimeoutMs: 5_000 });
  const dataSource = await checkAppStopped(nc, { app: 'notifier', statusSubject: CommandSubjects.NotifierStatus, force: args.force })
    .then(() => openNotifierDatabase({ ...database, schema: args.schema ?? database.schema }))
    .catch(async (err: unknown) => {
      await nc.close();
      throw err;
    });
  try {
    await replayNotifier(
      { dataSource, js: jetstream(nc), jsm: await jetstreamManager(nc), sink: teeSink(stdoutSink, natsProgressSink(nc, 'notifier')) },
      {
        stream: messaging.stream.name,
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
