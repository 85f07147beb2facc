import { performance } from 'node:perf_hooks';
import { AckPolicy, DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { createEvent, EventTypes } from '@idm/contracts';
import type { EventPublisher } from '@idm/messaging';
import { testDatabases, type PostgresTestDatabase, type SqliteTestDatabase } from '@idm/testing';

const now = () => new Date().toISOString();
/** How often {@link nthEmailSent} asks the server for the count once the n-th is near. */
const POLL_MS = 5;
/** ... and at most this long between asks while it is far. */
const MAX_POLL_MS = 100;

/** Appends one `RetryEmailNotifications` tick, as the scheduler would. */
export async function publishRetryTick(publisher: EventPublisher): Promise<void> {
  await publisher.publish(
    createEvent(
      EventTypes.BulkTaskTick,
      'email-retry',
      { schedule: 'email-retry', task: 'RetryEmailNotifications', scheduledFor: now(), firedAt: now(), catchUp: false },
      { source: '/bench', time: now() },
    ),
  );
}

/**
 * Resolves with the time (performance.now) at which the n-th EmailSent at or after stream
 * sequence `fromSeq` was in the stream. Call it before appending what causes them: its consumer
 * starts at `fromSeq`, so none is missed while it is being set up.
 *
 * It counts, it does not read: the consumer is never pulled from, and its `num_pending` (the
 * EmailSent stored after `fromSeq`) is polled. Reading back every event cost this process as much
 * CPU as a tenth of the notifier's, on the same two cores, and the app, not the bench, is what is
 * measured. Nor is it polled every few ms throughout: on nats-server 2.9 each `consumers.info` of
 * a filtered consumer costs the server real CPU, and polling every 5 ms cost nats-server 0.3 ms
 * per email of a 10,000-email drain (0.51-0.61 vs 0.20-0.22 ms at 50 ms; load 9) — CPU taken
 * from the notifier, the sink and Postgres on the same two cores, which the raw rows never pay.
 * So it waits about half the time the rate so far says is left (at most {@link MAX_POLL_MS}), and
 * polls every {@link POLL_MS} only near the end: the n-th is still seen within a few ms.
 */
export async function nthEmailSent(js: JetStreamClient, stream: string, n: number, fromSeq = 1): Promise<number> {
  const jsm = await js.jetstreamManager();
  const { name } = await jsm.consumers.add(stream, {
    filter_subject: `${EventTypes.EmailSent}.>`,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSeq,
    ack_policy: AckPolicy.None,
    inactive_threshold: 600_000_000_000, // ns: the server removes it if the bench dies
  });
  try {
    const started = performance.now();
    for (;;) {
      const seen = (await jsm.consumers.info(stream, name)).num_pending;
      const at = performance.now();
      if (seen >= n) return at;
      const msLeft = seen > 0 ? ((n - seen) * (at - started)) / seen : MAX_POLL_MS;
      await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_POLL_MS, Math.max(POLL_MS, msLeft / 2))));
    }
  } finally {
    await jsm.consumers.delete(stream, name).catch(() => undefined);
  }
}

/** A test database, with the environment that points the notifier at it. */
export type BenchDatabase = (SqliteTestDatabase | PostgresTestDatabase) & {
  /** `DATA_DIR` on SQLite; `DATABASE_URL` and `DATABASE_SCHEMA` on Postgres. */
  readonly env: Readonly<Record<string, string>>;
};

/**
 * Runs `run` on each test database in turn: a fresh SQLite folder, then a fresh Postgres schema
 * when Postgres answers (otherwise it says why the Postgres rows are skipped). Each is dropped
 * after its run, a failed one too, so a large bench leaves nothing behind.
 */
export async function onEachBenchDatabase(run: (db: BenchDatabase) => Promise<void>): Promise<void> {
  for (const db of await testDatabases()) {
    if (db.unavailable !== undefined) {
      console.log(`postgres rows skipped: ${db.unavailable}`);
      continue;
    }
    const env: Record<string, string> =
      db.kind === 'sqlite' ? { DATA_DIR: db.dataDir } : { DATABASE_URL: db.databaseUrl, DATABASE_SCHEMA: db.schema };
    try {
      await run({ ...db, env });
    } finally {
      await db.dispose();
    }
  }
}
