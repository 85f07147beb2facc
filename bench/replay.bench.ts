// Benchmark: how fast do the replay entry points rebuild the notifier's and password-sync's
// tables from the log, compared with an ordered-consumer read (plus decode) of the same stream in
// the same run — the ceiling any replay can reach?
//
//   npm run bench -- replay            (BENCH_REPLAY_EVENTS=10000 for a quick run)
//
// Seed (not timed): N events for N/5 users — UserAdded, EmailQueued, EmailSent, PasswordChanged,
// then PasswordSynced or PasswordSyncFailed. Rows: the ordered consumer; then
// `dist/apps/<app>/replay.js` as its own process (the way `idm replay` runs it) into a fresh SQLite
// file and a fresh Postgres schema, timed by the replay's own summary (connect and migrate
// excluded; wall time and the process's CPU time per event, both with start-up, in the note).
// Goal: ≥ 30,000 events/s into Postgres.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { decodeEvent, type IdmEvent } from '@idm/contracts';
import { connectNats, ensureEventStream, EventPublisher } from '@idm/messaging';
import { anEvent, dropSchema, startNatsServer, testDatabases } from '@idm/testing';
import { BenchReport, cpuSecondsOf, goals, type BenchRow } from './bench-support.js';

const N = Number(process.env.BENCH_REPLAY_EVENTS ?? 50_000);
const EVENTS_PER_USER = 5;

function eventsOf(i: number): IdmEvent[] {
  const userId = `user-${i}`;
  const added = anEvent.userAdded({ userId, email: `${userId}@example.com`, displayName: `User ${i}` });
  const queued = anEvent.emailQueued(
    { userId, emailType: 'NEW_USER', causationEvent: { id: added.id, type: added.type } },
    { causedBy: added },
  );
  const sent = anEvent.emailSent(
    { userId, emailType: 'NEW_USER', messageId: `<m-${i}@idm.bench>`, attempt: 1, tick: 'tick-1' },
    { causedBy: queued },
  );
  const changed = anEvent.passwordChanged({ userId });
  const outcome =
    i % 3 === 0
      ? anEvent.passwordSyncFailed({ userId, reason: 'policy-violation', message: 'too short', attempt: 1 }, { causedBy: changed })
      : anEvent.passwordSynced({ userId }, { causedBy: changed });
  return [added, queued, sent, changed, outcome];
}

async function seed(js: JetStreamClient): Promise<number> {
  const publisher = new EventPublisher(js);
  const users = Math.ceil(N / EVENTS_PER_USER);
  let next = 0;
  let lastSeq = 0;
  // Users in parallel lanes; each user's events in order.
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < users) {
        for (const e of eventsOf(next++)) lastSeq = Math.max(lastSeq, (await publisher.publish(e)).seq);
      }
    }),
  );
  return lastSeq;
}

async function orderedRead(js: JetStreamClient, stream: string, lastSeq: number): Promise<BenchRow> {
  const started = performance.now();
  const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  let read = 0;
  try {
    for await (const msg of messages) {
      decodeEvent(msg.data);
      read += 1;
      if (msg.seq >= lastSeq) break;
    }
  } finally {
    await messages.close().catch(() => undefined);
  }
  return { name: 'ordered consumer read + decode (the ceiling)', items: read, seconds: (performance.now() - started) / 1000 };
}

interface Summary {
  readonly kind: string;
  readonly read: number;
  readonly elapsedMs: number;
  readonly rows: Record<string, number>;
  readonly message?: string;
}

/** Runs an app's replay entry point to completion and returns its summary line. */
async function replay(
  app: 'notifier' | 'password-sync',
  env: Record<string, string>,
  args: readonly string[],
): Promise<{ summary: Summary; wallSeconds: number; cpuSeconds: number }> {
  const script = fileURLToPath(new URL(`../apps/${app}/replay.js`, import.meta.url));
  const started = performance.now();
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
  let summary: Summary | undefined;
  let error: string | undefined;
  // The replay's CPU time, read when it prints its summary (its last line, the process still alive).
  let cpuSeconds = Number.NaN;
  for await (const line of createInterface({ input: child.stdout })) {
    try {
      const parsed = JSON.parse(line) as Summary;
      if (parsed.kind === 'summary') {
        summary = parsed;
        cpuSeconds = cpuSecondsOf(child.pid);
      }
      if (parsed.kind === 'error') error = parsed.message;
    } catch {
      // not a progress line
    }
  }
  const code = child.exitCode ?? (await new Promise<number | null>((resolve) => child.once('exit', resolve)));
  clearTimeout(timer);
  if (!summary || code !== 0) throw new Error(`${app} replay failed (exit ${String(code)}): ${error ?? 'no summary'}`);
  return { summary, wallSeconds: (performance.now() - started) / 1000, cpuSeconds };
}

async function main(): Promise<void> {
  const nats = await startNatsServer({ jetstream: true });
  const nc = await connectNats({ url: nats.url, name: 'bench-replay' });
  const stream = `BENCH_${randomBytes(3).toString('hex')}`;
  const report = new BenchReport('replay', 'events');
  try {
    const js = jetstream(nc);
    await ensureEventStream(await jetstreamManager(nc), { name: stream });
    const seedStart = performance.now();
    const lastSeq = await seed(js);
    console.log(`seeded ${lastSeq} events in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
    const ceiling = report.add(await orderedRead(js, stream, lastSeq));
    const common = { NATS_URL: nats.url, IDM_STREAM: stream, LOG_LEVEL: 'warn' };
    for (const db of await testDatabases()) {
      if (db.unavailable !== undefined) {
        console.log(`postgres rows skipped: ${db.unavailable}`);
        continue;
      }
      try {
        for (const app of ['notifier', 'password-sync'] as const) {
          const env = db.kind === 'sqlite' ? { ...common, DATA_DIR: db.dataDir } : { ...common, DATABASE_URL: db.databaseUrl };
          const args = db.kind === 'sqlite' ? [] : ['--schema', `${db.schema}_${app.replace('-', '_')}`];
          const { summary, wallSeconds, cpuSeconds } = await replay(app, env, args);
          const tables = Object.entries(summary.rows)
            .map(([t, n]) => `${t} ${n}`)
            .join(', ');
          report.add(
            {
              name: `${app} replay → ${db.kind}`,
              items: summary.read,
              seconds: summary.elapsedMs / 1000,
              note: `${wallSeconds.toFixed(1)} s wall with start-up, ${((cpuSeconds * 1e6) / summary.read).toFixed(0)} µs CPU/event with start-up; ${tables}`,
            },
            { vs: ceiling, goals: db.kind === 'postgres' ? [goals.rateAtLeast(30_000, 'events')] : [] },
          );
        }
      } finally {
        if (db.kind === 'postgres') {
          for (const app of ['notifier', 'password_sync']) await dropSchema(db.databaseUrl, `${db.schema}_${app}`);
        }
        await db.dispose();
      }
    }
    report.print(`replay: ${lastSeq} events from the log into fresh tables (goal: ≥ 30,000 events/s into Postgres)`);
  } finally {
    await nc.close();
    await nats.dispose();
  }
}

await main();
