import { errorMessage } from '@idm/config';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { messagingConfigFromEnv } from './messaging-config.js';
import { connectNats } from './nats-connection.js';
import { checkAppStopped, natsProgressSink, parseReplayArgs, stdoutSink, teeSink, type ReplayArgs } from './replay-protocol.js';
import { replayProjection, streamBatchReader, type Projection } from './replay-projection.js';

/** What an app's `replay` entry point is made of; everything else is {@link runReplayMain}'s. */
export interface ReplayMain<C, D extends { destroy(): Promise<void> }> {
  /** The app whose projection is rebuilt: progress subject, NATS client name `<app>-replay`. */
  readonly app: string;
  /** The app's status subject: an answer means it still runs (see `checkAppStopped`). */
  readonly statusSubject: string;
  /** Reads and checks the app's settings (database, …) before anything connects; throws on bad ones. */
  configure(args: ReplayArgs, env: NodeJS.ProcessEnv): C;
  /** Opens (and migrates) the app's database, once the app is known to be stopped. */
  open(config: C): Promise<D>;
  /** The app's projection over the open database. */
  projection(database: D, config: C): Projection<unknown>;
}

/**
 * The whole of an app's `replay` entry point (`node dist/apps/<app>/replay.js [--from-seq N |
 * --since TIME] [--dry-run] [--batch-size N] [--schema S] [--force]`): parses the arguments,
 * checks the settings, connects to NATS (`NATS_*`, `IDM_STREAM`), refuses while the app answers
 * its status subject (unless `--force`), opens the database and runs {@link replayProjection},
 * printing JSON lines on stdout and on the progress subject. Closes the database and drains the
 * connection (so the summary reaches the console) whatever happens. A failure is an `error` line
 * and exit code 1; it never throws.
 */
export async function runReplayMain<C, D extends { destroy(): Promise<void> }>(
  main: ReplayMain<C, D>,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  try {
    const args = parseReplayArgs(argv);
    const config = main.configure(args, env);
    const messaging = messagingConfigFromEnv(`${main.app}-replay`, env);
    const nc = await connectNats({ ...messaging.connection, connectTimeoutMs: 5_000 });
    const database = await checkAppStopped(nc, { app: main.app, statusSubject: main.statusSubject, force: args.force })
      .then(() => main.open(config))
      .catch(async (err: unknown) => {
        await nc.close();
        throw err;
      });
    try {
      const ports = {
        read: streamBatchReader(jetstream(nc), await jetstreamManager(nc)),
        sink: teeSink(stdoutSink, natsProgressSink(nc, main.app)),
      };
      await replayProjection(main.projection(database, config), ports, {
        stream: messaging.stream.name,
        dryRun: args.dryRun,
        fromSeq: args.fromSeq,
        since: args.since,
        batchSize: args.batchSize,
      });
    } finally {
      await database.destroy();
      // Drain, not close: the last progress lines (the summary) reach the console.
      await nc.drain();
    }
  } catch (err) {
    stdoutSink({ kind: 'error', message: errorMessage(err) });
    process.exitCode = 1;
  }
}
