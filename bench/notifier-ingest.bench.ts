// Benchmark: how fast does one notifier process turn `UserAdded` into `EmailQueued` (ingest, #13)?
//
//   npm run bench -- notifier-ingest        (BENCH_INGEST_EVENTS=5000 BENCH_LATENCY_SECONDS=10 for a quick run)
//
// Rows, all measured in the same run on the same nats-server and databases:
// - raw durable consumer read: a durable pull consumer with explicit acks reads the N `UserAdded`
//   of the run and acks each — the most the consumer side allows;
// - raw batched insert, per database: N rows in 500-row transactions (multi-row INSERT of inbox
//   rows) — the most the database side allows;
// - the notifier process (`dist/apps/notifier/main.js`, group commit through the outbox) per
//   database: N `UserAdded` published pipelined from the start of the clock until the N-th
//   `EmailQueued` is in the stream. Goals: ≥ 5,000/s on Postgres, ≥ 3,000/s on SQLite.
// - latency, per database: `UserAdded` offered at a steady BENCH_LATENCY_RATE (1,000/s) for
//   BENCH_LATENCY_SECONDS (30 s); p50/p99 from the event's `time` to the stream's store time of its
//   `EmailQueued`. Goal: p99 < 100 ms. Below it, where the time went (first second vs the rest:
//   publish → stored, stored → handled by the app, handled → its EmailQueued stored) and the
//   backlog the app's consumers had when the steady load began (on nats-server 2.9 the notifier's
//   consumer reads its own EmailQueued too: after the burst they stand before the next UserAdded).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { createEvent, EventTypes, type IdmEvent, type IdmEventOf } from '@idm/contracts';
import { connectNats, EventPublisher } from '@idm/messaging';
import { Inbox, openDatabase, persistenceEntities, persistenceMigrations, runInTransaction } from '@idm/persistence';
import { startNatsServer, tempDir, waitFor } from '@idm/testing';
import { BenchReport, goals, startBenchApp, type BenchRow } from './bench-support.js';
import { onEachBenchDatabase, type BenchDatabase } from './notifier-bench-support.js';

const N = Number(process.env.BENCH_INGEST_EVENTS ?? 20_000);
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 1_000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 30);
/** BENCH_CONSUMER_CONCURRENCY: the app's IDM_CONSUMER_CONCURRENCY for the run (default: the app's). */
const concurrency: Record<string, string> = process.env.BENCH_CONSUMER_CONCURRENCY
  ? { IDM_CONSUMER_CONCURRENCY: process.env.BENCH_CONSUMER_CONCURRENCY }
  : {};
const INSERT_BATCH = 500;
const GOALS = { sqlite: 3_000, postgres: 5_000 } as const;
const LATENCY_GOAL_MS = 100;

const userAdded = (userId: string, time = new Date().toISOString()): IdmEventOf<'idm.user.added'> =>
  createEvent(
    EventTypes.UserAdded,
    userId,
    { userId, email: `${userId}@example.com`, displayName: `User ${userId}` },
    { source: '/bench', time },
  );

/** Publishes `events` with `width` appends in flight (pipelined, each awaited). */
async function publishPipelined(publisher: EventPublisher, events: readonly IdmEvent[], width = 512): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < events.length) await publisher.publish(events[next++]!);
    }),
  );
}

/**
 * `EmailQueued` stored so far: the stream holds only the bench's `UserAdded` and the app's
 * `EmailQueued`, so it is the message count less the `UserAdded` published (a cheap stream info,
 * unlike a per-subject count over tens of thousands of subjects).
 */
async function queuedCount(jsm: JetStreamManager, stream: string, userAddedPublished: number): Promise<number> {
  return (await jsm.streams.info(stream)).state.messages - userAddedPublished;
}

/** The raw consumer side: a durable pull consumer with explicit acks reads the run's UserAdded. */
async function rawConsumerRead(js: JetStreamClient, jsm: JetStreamManager, stream: string, n: number): Promise<BenchRow> {
  const name = `raw-${randomBytes(3).toString('hex')}`;
  await jsm.consumers.add(stream, {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: `${EventTypes.UserAdded}.>`,
    max_ack_pending: 10_000,
  });
  const consumer = await js.consumers.get(stream, name);
  const started = performance.now();
  const messages = await consumer.consume({ max_messages: 1_000 });
  let seen = 0;
  for await (const msg of messages) {
    JSON.parse(msg.string());
    msg.ack();
    if (++seen >= n) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await messages.close().catch(() => undefined);
  await jsm.consumers.delete(stream, name);
  return { name: 'raw durable consumer read (explicit ack)', items: n, seconds };
}

/** The raw database side: N inbox rows in 500-row transactions, one multi-row INSERT each. */
async function rawBatchedInsert(db: BenchDatabase, n: number): Promise<BenchRow> {
  const dataDir = tempDir('bench-insert');
  const ds = await openDatabase({
    app: 'bench-insert',
    dataDir,
    ...(db.kind === 'postgres' ? { databaseUrl: db.databaseUrl, schema: `${db.schema}_raw` } : {}),
    entities: persistenceEntities,
    migrations: persistenceMigrations,
  });
  try {
    const started = performance.now();
    for (let start = 0; start < n; start += INSERT_BATCH) {
      const keys = Array.from({ length: Math.min(INSERT_BATCH, n - start) }, (_, i) => ({
        consumer: 'bench',
        eventId: `evt-${start + i}`,
        streamSeq: start + i,
      }));
      await runInTransaction(ds, (m) => Inbox.recordAll(m, keys));
    }
    const seconds = (performance.now() - started) / 1000;
    return { name: `raw batched insert (${INSERT_BATCH} rows/txn), ${db.kind}`, items: n, seconds };
  } finally {
    if (db.kind === 'postgres') await ds.query(`DROP SCHEMA IF EXISTS "${db.schema}_raw" CASCADE`);
    await ds.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface IngestResult {
  readonly row: BenchRow;
  /** The steady-load row: its events, the offered seconds, and p50 / p99 / max in ms as figures. */
  readonly latency: BenchRow;
  /** Where the latency went: the consumers' backlog at the start, the stages of each event. */
  readonly where: readonly string[];
}

/** One steady event's times (epoch ms): published, stored in the stream, handled by the app, its EmailQueued stored. */
interface StageTimes {
  readonly sent: number;
  readonly stored: number;
  readonly handled: number;
  readonly queued: number;
}

/** The value below which `p` % of the sorted `values` lie. */
const round1 = (n: number) => Math.round(n * 10) / 10;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** p50/p99/max of each stage of `times`, as one line. */
function stageLine(label: string, times: readonly StageTimes[]): string {
  const stage = (of: (t: StageTimes) => number) => {
    const sorted = times.map(of).sort((a, b) => a - b);
    return `${percentile(sorted, 50).toFixed(0)}/${percentile(sorted, 99).toFixed(0)}/${(sorted.at(-1) ?? NaN).toFixed(0)}`;
  };
  return (
    `  ${label} (${times.length} events), p50/p99/max ms: publish → stored ${stage((t) => t.stored - t.sent)}, ` +
    `stored → handled ${stage((t) => t.handled - t.stored)}, handled → EmailQueued stored ${stage((t) => t.queued - t.handled)}`
  );
}

/** The store time (epoch ms) of each message on `subjects` among the first `n` of the stream, by event id. */
async function storeTimes(js: JetStreamClient, stream: string, subjects: string, n: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const reader = await js.consumers.get(stream, { filter_subjects: subjects });
  const messages = await reader.consume();
  for await (const msg of messages) {
    out.set(msg.json<IdmEvent>().id, msg.info.timestampNanos / 1e6);
    if (out.size >= n) break;
  }
  await messages.close().catch(() => undefined);
  return out;
}

/**
 * The app's consumers' backlog (`num_pending`) now, and how long until it was read (polled every
 * 100 ms, for up to 10 s), as one line.
 */
async function consumerBacklog(jsm: JetStreamManager, stream: string): Promise<string> {
  const started = Date.now();
  const first = new Map<string, number>();
  const cleared = new Map<string, number>();
  while (Date.now() - started < 10_000) {
    for await (const c of jsm.consumers.list(stream)) {
      if (!first.has(c.name)) first.set(c.name, c.num_pending);
      if (c.num_pending === 0 && !cleared.has(c.name)) cleared.set(c.name, Date.now() - started);
    }
    if (cleared.size === first.size) break;
    await new Promise((resolve) => setTimeout(resolve, 100)); // a poll of the server's counters, not a wait for the app
  }
  const each = [...first].map(([name, n]) => `${name} ${n} (read within ${cleared.get(name) ?? '> 10000'} ms)`);
  return `  the app's consumers' backlog when the steady load began: ${each.join(', ')}`;
}

async function notifierIngest(db: BenchDatabase): Promise<IngestResult> {
  // A server per run: the app provisions its stream on `idm.>` subjects, which two streams cannot share.
  const nats = await startNatsServer({ jetstream: true });
  const stream = `BENCH_${randomBytes(3).toString('hex')}`;
  const logDir = tempDir('bench-ingest');
  const app = await startBenchApp(
    'notifier',
    {
      NATS_URL: nats.url,
      IDM_STREAM: stream,
      SMTP_URL: 'smtp://127.0.0.1:1',
      MAIL_FROM: 'IDM <noreply@idm.example>',
      LOG_LEVEL: 'info',
      HEALTH_PORT: 'off',
      // The notifier's folder on Postgres; SQLite's DATA_DIR in db.env replaces it.
      DATA_DIR: logDir,
      ...concurrency,
      ...db.env,
    },
    logDir,
  );
  const nc = await connectNats({ url: nats.url, name: 'bench' });
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const publisher = new EventPublisher(js);
    const queued = `${EventTypes.EmailQueued}.>`;

    // Throughput: N UserAdded pipelined; the clock runs until the N-th EmailQueued is stored.
    const events = Array.from({ length: N }, (_, i) => userAdded(`ingest-${i}`));
    // The app's CPU time per event: on a machine shared with other work, steadier than the rate.
    const cpuBefore = app.cpuSeconds();
    const started = performance.now();
    await publishPipelined(publisher, events);
    await waitFor(async () => (await queuedCount(jsm, stream, N)) >= N, { timeoutMs: 600_000, intervalMs: 20, message: 'EmailQueued' });
    const seconds = (performance.now() - started) / 1000;
    const cpuMsPerEvent = ((app.cpuSeconds() - cpuBefore) * 1000) / N;
    const row: BenchRow = {
      name: `notifier process, ${db.kind}: UserAdded → EmailQueued`,
      items: N,
      seconds,
      figures: { appCpuMsPerEvent: Number(cpuMsPerEvent.toFixed(3)) },
    };

    // Latency: a steady offered rate; each UserAdded's `time` is its publish time.
    const sentAt = new Map<string, number>();
    const total = LATENCY_RATE * LATENCY_SECONDS;
    const inFlight: Array<Promise<unknown>> = [];
    const t0 = Date.now();
    const backlog = consumerBacklog(jsm, stream);
    for (let sent = 0; sent < total;) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * LATENCY_RATE));
      for (; sent < due; sent++) {
        const now = new Date();
        const event = userAdded(`steady-${sent}`, now.toISOString());
        sentAt.set(event.id, now.getTime());
        inFlight.push(publisher.publish(event));
      }
      await new Promise((resolve) => setTimeout(resolve, 5)); // pacing the offered load, not awaiting a condition
    }
    await Promise.all(inFlight);
    const backlogLine = await backlog;
    await waitFor(async () => (await queuedCount(jsm, stream, N + total)) >= N + total, {
      timeoutMs: 600_000,
      intervalMs: 100,
      message: 'steady EmailQueued',
    });
    const storedAt = await storeTimes(js, stream, `${EventTypes.UserAdded}.>`, N + total);
    const stages: StageTimes[] = [];
    const reader = await js.consumers.get(stream, { filter_subjects: queued });
    const messages = await reader.consume();
    let read = 0;
    for await (const msg of messages) {
      const event = msg.json<IdmEventOf<'idm.email.queued'>>();
      const cause = event.data.causationEvent.id;
      const sent = sentAt.get(cause);
      // The EmailQueued's `time` is the app's clock when it handled the UserAdded.
      if (sent !== undefined) {
        stages.push({ sent, stored: storedAt.get(cause) ?? NaN, handled: Date.parse(event.time), queued: msg.info.timestampNanos / 1e6 });
      }
      if (++read >= N + total) break;
    }
    await messages.close().catch(() => undefined);
    const latencies = stages.map((t) => t.queued - t.sent).sort((a, b) => a - b);
    const pct = (p: number) => percentile(latencies, p);
    return {
      row,
      latency: {
        name: `latency, ${db.kind}: ${LATENCY_RATE}/s offered for ${LATENCY_SECONDS} s, event time → EmailQueued stored`,
        items: latencies.length,
        seconds: LATENCY_SECONDS,
        figures: { p50Ms: round1(pct(50)), p99Ms: round1(pct(99)), maxMs: round1(latencies.at(-1) ?? NaN) },
      },
      where: [
        backlogLine,
        stageLine(
          'first second',
          stages.filter((t) => t.sent - t0 < 1_000),
        ),
        stageLine(
          'after it',
          stages.filter((t) => t.sent - t0 >= 1_000),
        ),
      ],
    };
  } finally {
    await nc.close();
    await app.stop();
    await nats.dispose();
    rmSync(logDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const measured: Array<{
    readonly db: BenchDatabase['kind'];
    readonly insert: BenchRow;
    readonly row: BenchRow;
    readonly latency: BenchRow;
  }> = [];
  const whereLines: string[] = [];
  await onEachBenchDatabase(async (db) => {
    const insert = await rawBatchedInsert(db, N);
    const { row, latency, where } = await notifierIngest(db);
    measured.push({ db: db.kind, insert, row, latency });
    whereLines.push(`${db.kind}:`, ...where);
  });
  // The consumer side, on a stream of its own holding N UserAdded, after the app runs (no competition for the CPU).
  const nats = await startNatsServer({ jetstream: true });
  const nc = await connectNats({ url: nats.url, name: 'bench-raw' });
  let consumerRow: BenchRow;
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const stream = `RAW_${randomBytes(3).toString('hex')}`;
    await jsm.streams.add({ name: stream, subjects: ['idm.user.>'] });
    await publishPipelined(
      new EventPublisher(js),
      Array.from({ length: N }, (_, i) => userAdded(`raw-${i}`)),
    );
    consumerRow = await rawConsumerRead(js, jsm, stream, N);
  } finally {
    await nc.close();
    await nats.dispose();
  }
  const report = new BenchReport('notifier ingest', 'events');
  const vs = report.add(consumerRow);
  for (const { db, insert, row, latency } of measured) {
    report.add(insert, { vs });
    report.add(row, { vs, goals: [goals.rateAtLeast(GOALS[db], 'events')] });
    report.add(latency, { goals: [goals.figureUnder('p99Ms', LATENCY_GOAL_MS, 'ms')] });
  }
  report.print(
    `notifier ingest: ${N} UserAdded → EmailQueued (goals: ≥ ${GOALS.postgres}/s Postgres, ≥ ${GOALS.sqlite}/s SQLite, ` +
      `p99 < ${LATENCY_GOAL_MS} ms at ${LATENCY_RATE}/s); ratios vs the raw consumer read`,
  );
  console.log(`where the latency went:\n${whereLines.join('\n')}\n`);
}

await main();
