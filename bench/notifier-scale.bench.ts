// Benchmark: does a tick cost the same with a million recipients as with a thousand?
//
//   npm run bench -- notifier-scale    (BENCH_RECIPIENTS=100000 for a quick run)
//
// For each database (SQLite, Postgres) and each size (1,000 and BENCH_RECIPIENTS, default
// 1,000,000): the notifier migrates a fresh database and stops; the bench fills `recipient` in
// bulk with one SQL statement (not through the app); the notifier starts again, and BENCH_ROUNDS
// (default 5, after one warm-up round) times 100 pending emails are inserted and one RetryEmailNotifications tick is
// appended, timed from the append to the 100th EmailSent in the stream (claim + send + append).
// The row is the median round. Goals: the large size takes ≤ 2× the small one in the same run,
// and the notifier's peak RSS (VmHWM, start-up included) stays under 300 MB.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { DataSource } from 'typeorm';
import { connectNats, EventPublisher } from '@idm/messaging';
import { startNatsServer, startSmtpServer, tempDir, testDatabaseOf, type SmtpServerHandle } from '@idm/testing';
import { BenchReport, goals, startBenchApp, type BenchApp, type BenchRow } from './bench-support.js';
import { nthEmailSent, publishRetryTick } from './notifier-bench-support.js';

const LARGE = Number(process.env.BENCH_RECIPIENTS ?? 1_000_000);
const SMALL = 1_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PENDING = 100;
const now = () => new Date().toISOString();

type Target = { kind: 'sqlite'; dataDir: string } | { kind: 'postgres'; databaseUrl: string; schema: string };

/** The notifier's tables, opened by the bench itself for the bulk fill (the app is stopped meanwhile or only reads). */
function openTables(target: Target): Promise<DataSource> {
  const ds =
    target.kind === 'sqlite'
      ? new DataSource({ type: 'better-sqlite3', database: join(target.dataDir, 'notifier.sqlite') })
      : new DataSource({ type: 'postgres', url: target.databaseUrl, schema: target.schema, extra: { max: 1 } });
  return ds.initialize();
}

/** `n` recipients `user-0`… in one statement. */
async function fillRecipients(ds: DataSource, target: Target, n: number): Promise<void> {
  const t = target.kind === 'postgres' ? `"${target.schema}".recipient` : 'recipient';
  if (target.kind === 'postgres') {
    await ds.query(
      `INSERT INTO ${t} (user_id, email, display_name, updated_seq)
       SELECT 'user-' || g, 'user-' || g || '@example.com', 'User ' || g, 1 FROM generate_series(0, $1::int - 1) AS g`,
      [n],
    );
    await ds.query(`ANALYZE ${t}`);
  } else {
    await ds.query(
      `WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
       INSERT INTO recipient (user_id, email, display_name, updated_seq)
       SELECT 'user-' || i, 'user-' || i || '@example.com', 'User ' || i, 1 FROM g`,
      [n - 1],
    );
    await ds.query('ANALYZE');
  }
}

/** PENDING unclaimed NEW_USER emails for users `first`…, as the flag handler would have left them. */
async function addPending(ds: DataSource, target: Target, first: number): Promise<void> {
  const t = target.kind === 'postgres' ? `"${target.schema}".pending_email` : 'pending_email';
  const at = now();
  const rows = Array.from({ length: PENDING }, (_, k) => first + k);
  const p = (i: number) => (target.kind === 'postgres' ? `$${i}` : '?');
  const values = rows.map((_, k) => `(${p(4 * k + 1)}, 'NEW_USER', ${p(4 * k + 2)}, ${p(4 * k + 3)}, ${p(4 * k + 4)}, 0, '{}')`).join(', ');
  await ds.query(
    `INSERT INTO ${t} (user_id, email_type, queued_event_id, queued_at, first_queued_at, attempts, context) VALUES ${values}`,
    rows.flatMap((i) => [`user-${i}`, `q-${i}-${randomBytes(4).toString('hex')}`, at, at]),
  );
}

/** Appends one retry tick and resolves with the seconds until the PENDING-th EmailSent after it. */
async function timedTick(js: JetStreamClient, jsm: JetStreamManager, stream: string, publisher: EventPublisher): Promise<number> {
  const done = nthEmailSent(js, stream, PENDING, (await jsm.streams.info(stream)).state.last_seq + 1);
  const started = performance.now();
  await publishRetryTick(publisher);
  return ((await done) - started) / 1000;
}

async function oneSize(smtp: SmtpServerHandle, target: Target, recipients: number): Promise<{ row: BenchRow; peakRssMb: number }> {
  // A server of its own: one stream per server (another stream's subjects would overlap).
  const nats = await startNatsServer({ jetstream: true });
  const stream = `BENCH_${randomBytes(3).toString('hex')}`;
  const logDir = tempDir('bench-notifier-scale');
  const env = {
    NATS_URL: nats.url,
    IDM_STREAM: stream,
    SMTP_URL: smtp.url,
    MAIL_FROM: 'IDM <noreply@idm.example>',
    // info: startBenchApp waits for the `ready:` line.
    LOG_LEVEL: 'info',
    HEALTH_PORT: 'off',
    ...(target.kind === 'sqlite'
      ? { DATA_DIR: target.dataDir }
      : { DATA_DIR: logDir, DATABASE_URL: target.databaseUrl, DATABASE_SCHEMA: target.schema }),
  };
  // First start: migrations only.
  await (await startBenchApp('notifier', env, logDir)).stop();
  const tables = await openTables(target);
  let app: BenchApp | undefined;
  const nc = await connectNats({ url: nats.url, name: 'bench-scale' });
  try {
    const fillStarted = performance.now();
    await fillRecipients(tables, target, recipients);
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    app = await startBenchApp('notifier', env, logDir);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const publisher = new EventPublisher(js);
    const seconds: number[] = [];
    // Round 0 warms up (SMTP pool connections, JIT) and is not counted.
    for (let round = 0; round <= ROUNDS; round++) {
      await addPending(tables, target, round * PENDING);
      const s = await timedTick(js, jsm, stream, publisher);
      if (round > 0) seconds.push(s);
    }
    const median = [...seconds].sort((a, b) => a - b)[Math.floor(seconds.length / 2)]!;
    const peakRssMb = app.peakRssMb();
    return {
      peakRssMb,
      row: {
        name: `${target.kind}, ${recipients.toLocaleString('en')} recipients: tick → ${PENDING}th EmailSent (median of ${ROUNDS})`,
        items: PENDING,
        seconds: median,
        note: `rounds ${seconds.map((s) => s.toFixed(3)).join(' ')} s; recipients filled in ${fillSeconds.toFixed(1)} s`,
        figures: { peakRssMb },
      },
    };
  } finally {
    await nc.close();
    await app?.stop();
    await tables.destroy();
    await nats.dispose();
    rmSync(logDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const smtp = await startSmtpServer({ mode: 'accept' });
  const report = new BenchReport('notifier-scale', 'emails');
  try {
    for (const kind of ['sqlite', 'postgres'] as const) {
      let small: BenchRow | undefined;
      for (const recipients of [SMALL, LARGE]) {
        const db = await testDatabaseOf(kind);
        if (db.unavailable !== undefined) {
          console.log(`postgres rows skipped: ${db.unavailable}`);
          break;
        }
        try {
          const target: Target = db.kind === 'sqlite' ? { kind: 'sqlite', dataDir: db.dataDir } : { ...db, kind: 'postgres' };
          const { row } = await oneSize(smtp, target, recipients);
          const rssGoal = goals.figureUnder('peakRssMb', 300, 'MB');
          if (!small) small = report.add(row, { goals: [rssGoal] });
          else report.add(row, { vs: small, goals: [goals.slowdownAtMost(2), rssGoal] });
        } finally {
          await db.dispose();
        }
      }
    }
    report.print(
      `notifier at scale: one tick of ${PENDING} pending emails beside ${SMALL.toLocaleString('en')} and ${LARGE.toLocaleString('en')} recipients (goals: ≤ 2× the small size's time, peak RSS < 300 MB)`,
    );
  } finally {
    await smtp.dispose();
  }
}

await main();
