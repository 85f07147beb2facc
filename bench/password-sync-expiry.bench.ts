import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { IdmEvent } from '@idm/contracts';
import { Outbox, OutboxRelay } from '@idm/persistence';
import { testDatabases, type TestDatabase } from '@idm/testing';
import type { openPasswordSyncDatabase as OpenPasswordDatabase } from '../apps/password-sync/src/password-sync.database.js';
import type { PasswordCacheService as PasswordCacheServiceClass } from '../apps/password-sync/src/password-cache/password-cache.service.js';
import type { PasswordCacheRepository as PasswordCacheRepositoryClass } from '../apps/password-sync/src/password-cache/password-cache.repository.js';
import type { PasswordSealer as PasswordSealerClass } from '../apps/password-sync/src/password-cache/sealed-secret.js';
import type { ApplyResult, PasswordTarget as PasswordTargetClass } from '../apps/password-sync/src/targets/password-target.js';
import { BenchReport, goals, type BenchRow } from './bench-support.js';

/**
 * The expiry sweep at scale (#13): with 1,000,000 rows in password-sync's cache and 100 of them
 * due to expire, one sweep (expiry + outage retries + never-attempted passwords, as the app runs
 * it) should touch the due rows only, through indexes: goal ≤ 2× the time of the same sweep over
 * 1,000 rows. Each size is filled in bulk SQL (not through the service), then 100 due rows are
 * added and swept, `BENCH_SWEEP_RUNS` times (median). Last, on Postgres, the million-row sweep once
 * more without `password_cache_first_attempt`, to show what the index saves.
 *
 *   BENCH_SWEEP_ROWS (default 1000000), BENCH_SWEEP_SMALL_ROWS (default 1000), BENCH_SWEEP_RUNS (default 5)
 *
 * SQLite always; Postgres when reachable (DATABASE_URL or 127.0.0.1:5432/test). A measurement,
 * never a test: nothing here fails on time.
 */

const LARGE = Number(process.env.BENCH_SWEEP_ROWS ?? 1_000_000);
const SMALL = Number(process.env.BENCH_SWEEP_SMALL_ROWS ?? 1_000);
const RUNS = Number(process.env.BENCH_SWEEP_RUNS ?? 5);
const DUE = 100;
/** Rows per INSERT: under the pool's 30 s statement timeout on a busy machine. */
const FILL_CHUNK = 100_000;
const NOW = new Date('2026-03-01T10:00:00.000Z');
const iso = (msFromNow: number): string => new Date(NOW.getTime() + msFromNow).toISOString();
const DAY = 86_400_000;

// The app is not a lib: load its compiled modules beside this bench's (dist/bench → dist/apps).
const app = (path: string): string => new URL(`../apps/password-sync/${path}`, import.meta.url).href;
const { openPasswordSyncDatabase } = (await import(app('password-sync.database.js'))) as {
  openPasswordSyncDatabase: typeof OpenPasswordDatabase;
};
const { PasswordCacheService } = (await import(app('password-cache/password-cache.service.js'))) as {
  PasswordCacheService: typeof PasswordCacheServiceClass;
};
const { PasswordCacheRepository } = (await import(app('password-cache/password-cache.repository.js'))) as {
  PasswordCacheRepository: typeof PasswordCacheRepositoryClass;
};
const { PasswordSealer } = (await import(app('password-cache/sealed-secret.js'))) as { PasswordSealer: typeof PasswordSealerClass };
const { PasswordTarget } = (await import(app('targets/password-target.js'))) as { PasswordTarget: typeof PasswordTargetClass };

/**
 * Inserts users `<prefix>000000000` … in one statement per chunk: cached after a failed attempt
 * (so neither a retry nor a first attempt is due), expiring at `expiresAt`. The secret columns
 * hold placeholders: expiry never opens them.
 */
async function fill(ds: DataSource, prefix: string, count: number, expiresAt: string): Promise<void> {
  const postgres = ds.options.type === 'postgres';
  const columns =
    'user_id, state, origin, ciphertext, nonce, tag, key_id, changed_at, cached_at, expires_at, attempts, unavailable_streak, last_reason, last_message, next_retry_at, settled_at';
  const constants = `'cached', 'source', 'Y2lwaGVydGV4dA==', 'bm9uY2Vub25jZQ==', 'dGFndGFndGFn', 'bench'`;
  const failed = `1, 0, 'user-not-found', 'no such entry', NULL, NULL`;
  for (let from = 0; from < count; from += FILL_CHUNK) {
    const to = Math.min(count, from + FILL_CHUNK) - 1;
    if (postgres) {
      await ds.query(
        `INSERT INTO password_cache (${columns}) SELECT $1 || lpad(i::text, 9, '0'), ${constants}, $2, $2, $3, ${failed} ` +
          `FROM generate_series($4::int, $5::int) AS i`,
        [prefix, iso(-DAY), expiresAt, from, to],
      );
    } else {
      await ds.query(
        `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?) ` +
          `INSERT INTO password_cache (${columns}) SELECT ? || printf('%09d', i), ${constants}, ?, ?, ?, ${failed} FROM n`,
        [from, to, prefix, iso(-DAY), iso(-DAY), expiresAt],
      );
    }
  }
  if (postgres) await ds.query('ANALYZE password_cache');
}

function serviceOn(ds: DataSource): { service: PasswordCacheServiceClass; published: () => number; relay: OutboxRelay<IdmEvent> } {
  let published = 0;
  // Group commit as in the app; the relay is drained by the caller (the stream's stand-in counts).
  const outbox = new Outbox<IdmEvent>(ds, { groupCommit: {} });
  const relay = new OutboxRelay<IdmEvent>(ds, {
    publish: () => {
      published++;
      return Promise.resolve();
    },
  });
  const service = new PasswordCacheService({
    dataSource: ds,
    repository: new PasswordCacheRepository(),
    sealer: new PasswordSealer(randomBytes(32)),
    target: new (class extends PasswordTarget {
      apply(): Promise<ApplyResult> {
        return Promise.reject(new Error('the expiry sweep never applies a password'));
      }
      describe(): string {
        return 'none:';
      }
    })(),
    outbox,
    clock: { now: () => NOW },
    policy: { minutes: 60 },
    logger: { log: () => undefined, warn: () => undefined, error: (m) => console.error(m) },
    consumer: 'password-sync',
  });
  return { service, published: () => published, relay };
}

/** Adds 100 due rows and times one sweep, `RUNS` times; the median. */
async function timeSweeps(ds: DataSource, label: string): Promise<number> {
  const { service, published, relay } = serviceOn(ds);
  const seconds: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await fill(ds, `due-${label}-${run}-`, DUE, iso(-60_000));
    const before = published();
    const started = performance.now();
    const report = await service.sweep();
    // Until the events are out: the sweep's work includes publishing what it decided.
    await relay.drainOnce();
    seconds.push((performance.now() - started) / 1000);
    // A sweep that did not expire exactly the due rows measured something else.
    if (report.expired !== DUE || report.retried !== 0 || report.recovered !== 0 || published() - before !== DUE) {
      throw new Error(`sweep ${label} #${run}: ${JSON.stringify(report)}, ${published() - before} events; expected ${DUE} expired`);
    }
  }
  return seconds.sort((a, b) => a - b)[Math.floor(seconds.length / 2)]!;
}

async function open(db: Exclude<TestDatabase, { unavailable: string }>): Promise<DataSource> {
  return openPasswordSyncDatabase(
    db.kind === 'sqlite' ? { dataDir: db.dataDir } : { dataDir: '.', databaseUrl: db.databaseUrl, schema: db.schema },
  );
}

async function engineRows(kind: string, fresh: () => Promise<Exclude<TestDatabase, { unavailable: string }>>): Promise<void> {
  const report = new BenchReport(`password-sync expiry sweep, ${kind}`, 'rows');
  let small: BenchRow | undefined;
  for (const [size, n] of [
    ['small', SMALL],
    ['large', LARGE],
  ] as const) {
    const db = await fresh();
    const ds = await open(db);
    try {
      const filling = performance.now();
      await fill(ds, 'user-', n, iso(30 * DAY));
      report.add({ name: `bulk fill (set-up), ${n.toLocaleString('en')} rows`, items: n, seconds: (performance.now() - filling) / 1000 });
      const sweep = {
        name: `sweep, ${DUE} due of ${n.toLocaleString('en')} rows (median of ${RUNS})`,
        items: DUE,
        seconds: await timeSweeps(ds, size),
      };
      // Flat cost at scale: the sweep of the large table against the small one's.
      if (size === 'small') small = report.add(sweep);
      else report.add(sweep, { vs: small, goals: [goals.slowdownAtMost(2)] });
      // On SQLite the statement names its index (INDEXED BY) and cannot run without it.
      if (size === 'large' && ds.options.type === 'postgres') {
        await ds.query('DROP INDEX password_cache_first_attempt');
        await ds.query('ANALYZE password_cache');
        report.add(
          {
            name: `  the same without password_cache_first_attempt`,
            items: DUE,
            seconds: await timeSweeps(ds, 'unindexed'),
            note: 'what the index saves',
          },
          { vs: small },
        );
      }
    } finally {
      await ds.destroy();
      await db.dispose();
    }
  }
  report.print(
    `password-sync expiry sweep, ${kind} (goal: the sweep at ${LARGE.toLocaleString('en')} rows ≤ 2× the time at ${SMALL.toLocaleString('en')})`,
  );
}

async function main(): Promise<void> {
  const [sqlite, postgres] = await testDatabases();
  await sqlite.dispose();
  await engineRows('SQLite', async () => (await testDatabases())[0]);
  if (postgres.unavailable !== undefined) {
    console.log(`\nPostgres rows skipped: ${postgres.unavailable}`);
    return;
  }
  await postgres.dispose();
  await engineRows('Postgres', async () => {
    const [s, p] = await testDatabases();
    await s.dispose();
    if (p.unavailable !== undefined) throw new Error(p.unavailable);
    return p;
  });
}

await main();
