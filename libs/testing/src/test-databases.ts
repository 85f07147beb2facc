import { errorMessage, redactConnectionString } from '@idm/config';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tempDir } from './temp-dir.js';

/** An embedded SQLite database: a fresh empty directory for the app's `<app>.sqlite` file. */
export interface SqliteTestDatabase {
  readonly kind: 'sqlite';
  readonly dataDir: string;
  readonly unavailable?: undefined;
  /** Removes `dataDir`. */
  dispose(): Promise<void>;
}

/** A reachable Postgres with a schema name unique to this call (not yet created). */
export interface PostgresTestDatabase {
  readonly kind: 'postgres';
  readonly databaseUrl: string;
  /** `t_<random hex>`; pass it as the app's schema; `openDatabase` creates it. */
  readonly schema: string;
  readonly unavailable?: undefined;
  /** Drops `schema` (cascade). */
  dispose(): Promise<void>;
}

/** Postgres could not be reached; the spec must `t.skip(unavailable)` so the gap stays visible. */
export interface UnavailableTestDatabase {
  readonly kind: 'postgres';
  /** Why, e.g. `postgres at postgres://postgres@127.0.0.1:5432/test unreachable: ECONNREFUSED`. */
  readonly unavailable: string;
}

/** One database a spec should run against; narrow with `db.unavailable !== undefined` then `db.kind`. */
export type TestDatabase = SqliteTestDatabase | PostgresTestDatabase | UnavailableTestDatabase;

/** The Postgres used when `DATABASE_URL` is unset: local trust auth, database `test`. */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The subset of `pg` used here (`pg` ships no types and `@types/pg` is not installed). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}
interface PgModule {
  Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient;
}
const pg = createRequire(import.meta.url)('pg') as PgModule;

async function withPg<T>(databaseUrl: string, work: (client: PgClient) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined); // a dropped idle connection must not crash the test process
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const probes = new Map<string, Promise<string | undefined>>();

/** Probes once per URL and process: undefined when reachable, otherwise the reason. */
function probe(databaseUrl: string): Promise<string | undefined> {
  let result = probes.get(databaseUrl);
  if (!result) {
    result = withPg(databaseUrl, (c) => c.query('select 1')).then(
      () => undefined,
      (err: unknown) => `postgres at ${redactConnectionString(databaseUrl)} unreachable: ${errorMessage(err)}`,
    );
    probes.set(databaseUrl, result);
  }
  return result;
}

/**
 * The databases a persistence spec should run against: SQLite (always, in a fresh temp dir) and
 * Postgres from `DATABASE_URL` or {@link DEFAULT_TEST_DATABASE_URL}, with a schema name unique to
 * this call. Reachability is probed with the `pg` client (once per process); when unreachable the
 * Postgres entry carries `unavailable` instead of failing. Call `dispose()` on each when done.
 */
export async function testDatabases(): Promise<[SqliteTestDatabase, PostgresTestDatabase | UnavailableTestDatabase]> {
  const dataDir = tempDir('idm-sqlite');
  const sqlite: SqliteTestDatabase = {
    kind: 'sqlite',
    dataDir,
    dispose: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
  };
  const databaseUrl =
    process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '' ? process.env.DATABASE_URL : DEFAULT_TEST_DATABASE_URL;
  const unavailable = await probe(databaseUrl);
  if (unavailable !== undefined) return [sqlite, { kind: 'postgres', unavailable }];
  const schema = `t_${randomBytes(6).toString('hex')}`;
  return [sqlite, { kind: 'postgres', databaseUrl, schema, dispose: () => dropSchema(databaseUrl, schema) }];
}

/**
 * The database of `kind` alone, for a spec or bench that runs on one engine at a time. Picking one
 * entry of {@link testDatabases} instead leaves the SQLite folder it always creates behind on every
 * Postgres pass; here that folder is removed at once. (A Postgres entry needs no such care: its
 * schema is created only when opened.) Call `dispose()` on the result when done.
 */
export async function testDatabaseOf(kind: 'sqlite'): Promise<SqliteTestDatabase>;
export async function testDatabaseOf(kind: 'postgres'): Promise<PostgresTestDatabase | UnavailableTestDatabase>;
export async function testDatabaseOf(kind: TestDatabase['kind']): Promise<TestDatabase>;
export async function testDatabaseOf(kind: TestDatabase['kind']): Promise<TestDatabase> {
  const [sqlite, postgres] = await testDatabases();
  if (kind === 'sqlite') return sqlite;
  await sqlite.dispose();
  return postgres;
}

/**
 * Drops a test schema and everything in it; a missing schema is fine.
 * @throws if Postgres cannot be reached or `schema` is not a plain identifier.
 */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`refusing to drop schema with unusual name ${JSON.stringify(schema)}`);
  await withPg(databaseUrl, (c) => c.query(`drop schema if exists "${schema}" cascade`));
}

/** What an app's `open<App>Database` needs to open a test database: a SQLite folder, or a Postgres URL and schema. */
export type TestDatabaseLocation =
  { readonly dataDir: string } | { readonly databaseUrl: string; readonly dataDir: string; readonly schema: string };

/** The options that open `db` with an app's `open<App>Database`. */
export function locationOf(db: SqliteTestDatabase | PostgresTestDatabase): TestDatabaseLocation {
  return db.kind === 'sqlite' ? { dataDir: db.dataDir } : { databaseUrl: db.databaseUrl, dataDir: '.', schema: db.schema };
}

/**
 * Runs `run` on each available database of `dbs`, one after the other, and says through `skip`
 * (e.g. the test's `t.diagnostic`) why an unavailable one did not run. Returns what each run
 * returned, by kind, so a spec can compare the engines. A failing run stops there and rejects.
 */
export async function onEachTestDatabase<R>(
  dbs: readonly TestDatabase[],
  run: (location: TestDatabaseLocation, kind: TestDatabase['kind']) => Promise<R>,
  skip: (message: string) => void,
): Promise<Partial<Record<TestDatabase['kind'], R>>> {
  const results: Partial<Record<TestDatabase['kind'], R>> = {};
  for (const db of dbs) {
    if (db.unavailable !== undefined) {
      skip(`skipping ${db.kind}: ${db.unavailable}`);
      continue;
    }
    results[db.kind] = await run(locationOf(db), db.kind);
  }
  return results;
}
