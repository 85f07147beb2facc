import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import type { DataSourceOptions } from 'typeorm';
import { errorMessage, redactConnectionString } from '@idm/config';
import { DatabaseUnavailableError, isTransientDatabaseError, scrubSecret } from './database-errors.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { installSqliteGate } from './sqlite-transaction-gate.js';
import { exitOnLostDurability, SqliteWalSync, type SqliteWalSyncError, type WalFileSync } from './sqlite-wal-sync.js';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** App name (`notifier`, `password-sync`): names the SQLite file and the default Postgres schema. */
  readonly app: string;
  /** `postgres://…`; when unset or empty an embedded SQLite file under `dataDir` is used. */
  readonly databaseUrl?: string;
  /** Folder for the SQLite file (`DATA_DIR`, default `./.data`); created when missing. */
  readonly dataDir: string;
  /** Postgres schema; default = `app` with `-` replaced by `_`. Ignored on SQLite. */
  readonly schema?: string;
  /** The app's entities plus `persistenceEntities`. */
  readonly entities: NonNullable<DataSourceOptions['entities']>;
  /** The app's migrations plus `persistenceMigrations`, in order. */
  readonly migrations: NonNullable<DataSourceOptions['migrations']>;
  /** Log SQL (TypeORM's simple console logger). Default false. */
  readonly logging?: boolean;
  /**
   * Postgres: how long to wait for another replica's migrations (the schema's migration lock)
   * before failing with {@link MigrationLockTimeoutError}. Default 5 minutes.
   */
  readonly migrationLockTimeoutMs?: number;
  /**
   * SQLite: how the `-wal` file is flushed after a commit (default `fdatasync` on libuv's thread
   * pool). For tests that hold or fail the flush; leave unset otherwise.
   */
  readonly syncWalFile?: WalFileSync;
  /**
   * SQLite: called once when a flush of the `-wal` file fails (the error is sticky; every later
   * call of the DataSource fails with it). Default {@link exitOnLostDurability}: the process
   * exits with code 1 so its supervisor restarts it. Tests that fail the flush pass their own.
   */
  readonly onLostDurability?: (error: SqliteWalSyncError) => void;
}

/**
 * Another process held the schema's migration lock for longer than `migrationLockTimeoutMs`
 * (a replica stuck in a long migration, or a session left open by hand). Not retried inside
 * `openDatabase`: the app exits and its supervisor starts it again.
 */
export class MigrationLockTimeoutError extends Error {
  override readonly name = 'MigrationLockTimeoutError';
  readonly code = 'IDM_DB_MIGRATION_LOCK_TIMEOUT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Longest a single Postgres statement may run before the server cancels it (57014, transient). */
const STATEMENT_TIMEOUT_MS = 30_000;
/** How long SQLite waits on a lock held by another process before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** Default wait for another replica's migrations. */
const MIGRATION_LOCK_TIMEOUT_MS = 300_000;

/**
 * Opens and initialises the app's database, then runs pending migrations, each in its own
 * transaction. Never uses `synchronize`.
 *
 * - Postgres (`databaseUrl` set, PostgreSQL ≥ 12): tables live in the app's own schema, created
 *   if missing (`CREATE SCHEMA IF NOT EXISTS`), with the migrations table inside it and
 *   `search_path` set to it; pool of 10, 30 s statement timeout, transactions READ COMMITTED.
 *   Creating the schema and migrating happen under a session advisory lock keyed by the schema
 *   name, so replicas starting together migrate one after the other (the others then find
 *   nothing pending) instead of racing on `CREATE TABLE` (`pg_type_typname_nsp_index`).
 * - SQLite (better-sqlite3): file `<dataDir>/<app>.sqlite`, WAL journal, 5 s busy timeout. A
 *   commit is on disk before the caller acks the event, without fsyncing on the event loop: the
 *   connection runs `synchronous=NORMAL` (COMMIT only writes the WAL) and every transaction (and
 *   statement outside one) resolves only after an `fdatasync` of the `-wal` file, started after
 *   its commit, has completed on libuv's thread pool — one flush in flight, shared by all
 *   commits before it (see `SqliteWalSync`; a failed flush fails every later call and, by
 *   default, exits the process: `onLostDurability`). WAL checkpoints run on a worker thread with a connection of its own (PASSIVE, every 100 ms), not inside the
 *   app's commits on its event loop; `destroy()` stops that thread first. The WAL file does not
 *   stay at the size a burst grew it to: `journal_size_limit` (16 MiB) while writes go on, a
 *   TRUNCATE checkpoint after 1 s without any. Transactions of the
 *   returned DataSource are serialised, because TypeORM shares one connection and one query
 *   runner on SQLite; do writes inside `dataSource.transaction`, `runInTransaction` or
 *   an `Outbox` unit, not via a bare `repository.save()` racing with them.
 *
 * @throws DatabaseUnavailableError (code `IDM_DB_UNAVAILABLE`, transient) when the server cannot
 *   be reached; other errors (bad migration, bad schema name) are rethrown as they are. Messages
 *   never contain the password of `databaseUrl`.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DataSource> {
  const databaseUrl = options.databaseUrl === '' ? undefined : options.databaseUrl;
  const dataSource = new DataSource(databaseUrl === undefined ? await sqliteOptions(options) : postgresOptions(options, databaseUrl));
  const where = databaseUrl === undefined ? join(options.dataDir, `${options.app}.sqlite`) : redactConnectionString(databaseUrl);
  try {
    await dataSource.initialize();
    if (dataSource.options.type === 'postgres') {
      const schema = schemaName(options);
      await withMigrationLock(dataSource, schema, options.migrationLockTimeoutMs ?? MIGRATION_LOCK_TIMEOUT_MS, async () => {
        await ensureSchema(dataSource, schema);
        await dataSource.runMigrations({ transaction: 'each' });
      });
    } else {
      // One SQLite file per app: SQLite's own write lock (and the busy timeout) serialises openers.
      await dataSource.runMigrations({ transaction: 'each' });
    }
  } catch (err) {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    if (isTransientDatabaseError(err)) {
      const reason = errorMessage(err);
      throw new DatabaseUnavailableError(scrubSecret(`cannot open database for ${options.app} at ${where}: ${reason}`, databaseUrl), {
        cause: err,
      });
    }
    if (databaseUrl !== undefined && err instanceof Error) err.message = scrubSecret(err.message, databaseUrl);
    throw err;
  }
  if (dataSource.options.type === 'better-sqlite3') {
    let walSync: SqliteWalSync;
    try {
      // Migrations ran with synchronous = FULL (prepareDatabase); from here walSync flushes commits.
      await dataSource.query('PRAGMA synchronous = NORMAL');
      walSync = await SqliteWalSync.open(
        String(dataSource.options.database),
        options.syncWalFile,
        options.onLostDurability ?? exitOnLostDurability,
      );
    } catch (err) {
      await dataSource.destroy().catch(() => undefined);
      throw err;
    }
    installSqliteGate(dataSource, walSync);
    checkpointOffTheEventLoop(dataSource, walSync);
  }
  return dataSource;
}

/**
 * Starts a {@link SqliteCheckpointer} for `dataSource`; on `destroy()` it is stopped first, and the
 * WAL's descriptor is closed last.
 */
function checkpointOffTheEventLoop(dataSource: DataSource, walSync: SqliteWalSync): void {
  const checkpointer = SqliteCheckpointer.start(dataSource);
  const destroy = dataSource.destroy.bind(dataSource);
  dataSource.destroy = async () => {
    await checkpointer.stop();
    try {
      await destroy();
    } finally {
      await walSync.close();
    }
  };
}

/** The Postgres schema an app's tables live in. */
export function schemaName(options: Pick<OpenDatabaseOptions, 'app' | 'schema'>): string {
  const schema = options.schema ?? options.app.replace(/-/g, '_');
  // Also goes into the connection's `options` string, so keep it to plain identifiers.
  if (!/^[a-z_][a-z0-9_]{0,62}$/i.test(schema)) {
    throw new RangeError(`invalid Postgres schema name ${JSON.stringify(schema)}: use letters, digits and _`);
  }
  return schema;
}

function postgresOptions(options: OpenDatabaseOptions, url: string): DataSourceOptions {
  const schema = schemaName(options);
  return {
    type: 'postgres',
    url,
    schema,
    applicationName: options.app,
    poolSize: 10,
    connectTimeoutMS: 10_000,
    entities: options.entities,
    migrations: options.migrations,
    migrationsRun: false,
    synchronize: false,
    logging: options.logging ?? false,
    // Passed to pg's Pool/Client; the search_path lets apps' raw SQL use unqualified names. READ
    // COMMITTED as the session's default: `runInTransaction` then begins with START TRANSACTION
    // alone, not a second round trip for SET TRANSACTION ISOLATION LEVEL (group commits are
    // round-trip bound).
    extra: {
      statement_timeout: STATEMENT_TIMEOUT_MS,
      idle_in_transaction_session_timeout: 60_000,
      options: `-c search_path=${schema} -c default_transaction_isolation=read\\ committed`,
    },
  };
}

async function sqliteOptions(options: OpenDatabaseOptions): Promise<DataSourceOptions> {
  const dir = resolve(options.dataDir);
  await mkdir(dir, { recursive: true });
  return {
    type: 'better-sqlite3',
    database: join(dir, `${options.app}.sqlite`),
    timeout: SQLITE_BUSY_TIMEOUT_MS,
    enableWAL: true,
    prepareDatabase: (db: { pragma: (source: string) => unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    },
    entities: options.entities,
    migrations: options.migrations,
    migrationsRun: false,
    synchronize: false,
    logging: options.logging ?? false,
  };
}

/** The advisory-lock key text of a schema's migrations (hashed to a bigint by Postgres). */
export function migrationLockName(schema: string): string {
  return `idm-migrations:${schema}`;
}

/**
 * Runs `work` while holding `pg_advisory_lock(hashtextextended('idm-migrations:<schema>', 0))` on
 * a connection of its own. A session lock, not a transaction lock, because TypeORM runs each
 * migration in its own transaction on another pooled connection; the lock dies with the session
 * if the process does, so a crashed replica never leaves it behind.
 */
async function withMigrationLock(dataSource: DataSource, schema: string, timeoutMs: number, work: () => Promise<void>): Promise<void> {
  const runner = dataSource.createQueryRunner();
  const key = migrationLockName(schema);
  try {
    await runner.connect();
    // The pool's 30 s statement timeout would cancel a long wait; lock_timeout bounds it instead.
    await runner.query(`SET statement_timeout = 0`);
    await runner.query(`SET lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    try {
      await runner.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [key]);
    } catch (err) {
      if ((err as { driverError?: { code?: unknown } }).driverError?.code === '55P03') {
        throw new MigrationLockTimeoutError(
          `waited ${Math.round(timeoutMs / 1000)} s for the migration lock of schema "${schema}" held by another process (see pg_locks, advisory); giving up`,
          { cause: err },
        );
      }
      throw err;
    }
    try {
      await runner.query(`RESET lock_timeout`);
      await runner.query(`RESET statement_timeout`);
      await work();
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [key]).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}

async function ensureSchema(dataSource: DataSource, schema: string): Promise<void> {
  try {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (err) {
    // Two apps (or replicas) starting together can both pass the IF NOT EXISTS check; the loser
    // gets a unique violation on pg_namespace, which means the schema now exists.
    const code = (err as { driverError?: { code?: unknown } }).driverError?.code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}
