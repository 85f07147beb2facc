import 'reflect-metadata';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { commonEnv, readEnv } from '@idm/config';
import { connectNats, messagingConfigFromEnv, natsProgressSink, parseReplayArgs, stdoutSink, teeSink } from '@idm/messaging';
import { openNotifierDatabase } from './notifier.database.js';
import { replayNotifier } from './replay/notifier-replay.js';

/**
 * `node dist/apps/notifier/replay.js [--from-seq N | --since TIME] [--dry-run]`: rebuilds the
 * notifier's tables from the log. No SMTP, no publisher: only NATS (to read) and the database.
 * Progress and summary are JSON lines on stdout (`idm replay notifier` draws them); a failure is
 * an `error` line and exit code 1. Stop the notifier first: claims are not in the log.
 */
async function main(): Promise<void> {
  const args = parseReplayArgs(process.argv.slice(2));
  const env = readEnv({ DATABASE_URL: commonEnv.DATABASE_URL, DATA_DIR: commonEnv.DATA_DIR });
  const messaging = messagingConfigFromEnv('notifier-replay');
  const nc = await connectNats({ ...messaging.connection, connectTimeoutMs: 5_000 });
  const dataSource = await openNotifierDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, ...(args.schema ? { schema: args.schema } : {}) });
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
  stdoutSink({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
});
