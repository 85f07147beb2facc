import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { tempDir, waitFor } from '@idm/testing';
import { DatabaseUnavailableError, isTransientDatabaseError } from './database-errors.js';
import { MigrationLockTimeoutError, openDatabase, persistenceEntities, Outbox, persistenceMigrations, runInTransaction } from './index.js';
import { migrationLockName } from './open-database.js';
import { counterValue, increment } from './spec-support/counter.fixture.js';
import { databaseKinds, postgresUrl, testDatabase, testOnDatabase } from './spec-support/test-databases.js';

/** Sessions holding (granted) or waiting for (not granted) the schema's migration lock. */
async function migrationLockSessions(ds: DataSource, schema: string, granted: boolean): Promise<number> {
  // A bigint advisory key is stored as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
  const rows = (await ds.query(
    `WITH k AS (SELECT hashtextextended($1, 0) AS h)
     SELECT count(*)::int AS n FROM pg_locks, k
     WHERE locktype = 'advisory' AND objsubid = 1 AND granted = $2
       AND classid = ((h >> 32) & 4294967295)::oid AND objid = (h & 4294967295)::oid`,
    [migrationLockName(schema), granted],
  )) as Array<{ n: number }>;
  return rows[0]!.n;
}
const migrationLockHolders = (ds: DataSource, schema: string): Promise<number> => migrationLockSessions(ds, schema, true);
const migrationLockWaiters = (ds: DataSource, schema: string): Promise<number> => migrationLockSessions(ds, schema, false);

for (const kind of databaseKinds) {
  describe(`openDatabase on ${kind}`, () => {
    testOnDatabase(kind, 'migrations create the tables and are not re-run on reopen', async (db) => {
      const first = await db.open();
      const runner = first.createQueryRunner();
      try {
        for (const table of ['inbox', 'outbox', 'projection_checkpoint', 'spec_counter'])
          assert.equal(await runner.hasTable(table), true, table);
      } finally {
        await runner.release();
      }
      await first.destroy();
      const second = await db.open();
      assert.equal(await second.showMigrations(), false);
      const rows = (await second.query(
        `SELECT name FROM ${kind === 'postgres' ? `"${db.schema}".` : ''}migrations ORDER BY name`,
      )) as Array<{ name: string }>;
      assert.deepEqual(
        rows.map((r) => r.name),
        ['OutboxTable1764500000000', 'PersistenceTables1732300000000', 'SpecCounter1732300000001'],
      );
    });

    testOnDatabase(kind, 'data survives close and reopen', async (db) => {
      const first = await db.open();
      await new Outbox(first).once({ consumer: 'c', eventId: 'evt-1', streamSeq: 1 }, ({ manager }) => increment(manager, 'kept'));
      await first.destroy();
      const second = await db.open();
      assert.equal(await counterValue(second.manager, 'kept'), 1);
      assert.deepEqual(
        await new Outbox(second).once({ consumer: 'c', eventId: 'evt-1', streamSeq: 1 }, ({ manager }) => increment(manager, 'kept')),
        { duplicate: true },
      );
    });
  });
}

describe('openDatabase on sqlite specifics', () => {
  // synchronous=NORMAL: the commit's fsync runs on the thread pool instead (sqlite-wal-sync.int-spec).
  testOnDatabase('sqlite', 'uses <dataDir>/<app>.sqlite in WAL mode with synchronous=NORMAL', async (db) => {
    const ds = await db.open();
    assert.equal(existsSync(join(db.dataDir, `${db.app}.sqlite`)), true);
    assert.deepEqual(await ds.query('PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
    assert.deepEqual(await ds.query('PRAGMA synchronous'), [{ synchronous: 1 }]);
  });

  test('the app never checkpoints in its own commits; a thread of its own copies the WAL back', async (t) => {
    const db = await testDatabase(t, 'sqlite');
    if (!db) return;
    try {
      const ds = await db.open();
      assert.deepEqual(await ds.query('PRAGMA wal_autocheckpoint'), [{ wal_autocheckpoint: 0 }]);
      await new Outbox(ds).once({ consumer: 'c', eventId: 'evt-1', streamSeq: 1 }, ({ manager }) => increment(manager, 'kept'));
      // The wal-index header (sqlite.org/walformat.html): frames in the WAL, and how many are copied back.
      const walIndex = (): { frames: number; backfilled: number } => {
        const header = readFileSync(join(db.dataDir, `${db.app}.sqlite-shm`)).subarray(0, 100);
        const u32 = (at: number): number => (endianness() === 'LE' ? header.readUInt32LE(at) : header.readUInt32BE(at));
        return { frames: u32(16), backfilled: u32(96) };
      };
      await waitFor(() => walIndex().frames > 0 && walIndex().backfilled === walIndex().frames, {
        timeoutMs: 10_000,
        message: 'the WAL copied back into the database file',
      });
      await ds.destroy(); // stops the thread first; must not hang
    } finally {
      await db.dispose();
    }
  });

  test('the WAL file shrinks after a burst: to journal_size_limit while writes go on, to nothing once idle', async (t) => {
    const db = await testDatabase(t, 'sqlite');
    if (!db) return;
    try {
      const ds = await db.open();
      const walBytes = (): number => statSync(join(db.dataDir, `${db.app}.sqlite-wal`)).size;
      const [{ journal_size_limit: limit }] = (await ds.query('PRAGMA journal_size_limit')) as [{ journal_size_limit: number }];
      assert.ok(limit > 0, `journal_size_limit is set (${limit})`);
      // The burst: one transaction of 1.5 × the limit, so the WAL file must grow past it.
      const rows = Math.ceil((1.5 * limit) / 4096);
      await runInTransaction(ds, (m) =>
        m.query(
          `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
           INSERT INTO outbox (event_id, event_type, event_key, payload, created_at)
           SELECT 'burst-' || i, 'spec.burst', 'k', hex(randomblob(2000)), '2026-01-01T00:00:00.000Z' FROM g`,
          [rows],
        ),
      );
      assert.ok(walBytes() > limit, `the burst grew the WAL past the limit (${walBytes()} > ${limit})`);

      // Writes go on, a small commit at a time: never idle, so only journal_size_limit can cut the file.
      await waitFor(
        async () => {
          await runInTransaction(ds, (m) => increment(m, 'steady'));
          return walBytes() <= limit;
        },
        { timeoutMs: 20_000, intervalMs: 20, message: 'the WAL file cut back to journal_size_limit by a commit' },
      );
      assert.ok(walBytes() > 0, 'cut to the limit, not emptied, while the app writes');

      // Then nothing is written: the checkpointer empties the file.
      await waitFor(() => walBytes() === 0, { timeoutMs: 20_000, message: 'the WAL file emptied once the app is idle' });
      assert.deepEqual(await ds.query(`SELECT COUNT(*) AS n FROM outbox`), [{ n: rows }], 'every row of the burst is in the database');
      await ds.destroy();
    } finally {
      await db.dispose();
    }
  });

  test('creates a missing data dir', async () => {
    const root = tempDir('idm-persistence');
    const dataDir = join(root, 'nested', 'data');
    try {
      const ds = await openDatabase({ app: 'fresh', dataDir, entities: persistenceEntities, migrations: persistenceMigrations });
      await ds.destroy();
      assert.equal(existsSync(join(dataDir, 'fresh.sqlite')), true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('openDatabase on postgres specifics', () => {
  testOnDatabase('postgres', 'puts the tables and the migrations table in the app schema', async (db) => {
    const ds = await db.open();
    const rows = (await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [
      db.schema,
    ])) as Array<{
      table_name: string;
    }>;
    assert.deepEqual(
      rows.map((r) => r.table_name),
      ['inbox', 'migrations', 'outbox', 'projection_checkpoint', 'spec_counter'],
    );
    assert.deepEqual(await ds.query('SHOW statement_timeout'), [{ statement_timeout: '30s' }]);
  });

  test('transactions are READ COMMITTED by the session default: runInTransaction begins with one statement', async (t) => {
    const db = await testDatabase(t, 'postgres');
    if (!db) return;
    try {
      const ds = await db.open();
      // Every statement the transaction's query runner sends.
      const sent: string[] = [];
      const createQueryRunner = ds.createQueryRunner.bind(ds);
      ds.createQueryRunner = (mode) => {
        const runner = createQueryRunner(mode);
        const query = runner.query.bind(runner);
        runner.query = ((sql: string, ...rest: []) => (sent.push(sql), query(sql, ...rest))) as typeof runner.query;
        return runner;
      };
      const level = await runInTransaction(ds, (manager) => manager.query('SHOW transaction_isolation'));
      assert.deepEqual(level, [{ transaction_isolation: 'read committed' }]);
      assert.deepEqual(sent, ['START TRANSACTION', 'SHOW transaction_isolation', 'COMMIT'], 'no SET TRANSACTION round trip');
    } finally {
      await db.dispose();
    }
  });

  test('replicas starting together on a fresh schema all open it; the migrations run once', async (t) => {
    // Without a lock, concurrent CREATE TABLEs of the migrations table and the first migration
    // fail on `duplicate key value violates unique constraint "pg_type_typname_nsp_index"`.
    // Several rounds of three replicas, because a race that loses once in a while is still a crash.
    for (let round = 0; round < 5; round++) {
      const db = await testDatabase(t, 'postgres');
      if (!db) return;
      try {
        const opened = await Promise.allSettled([db.open(), db.open(), db.open()]);
        const failures = opened.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
        assert.deepEqual(failures, [], `round ${round}`);
        const [first] = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        const rows = (await first!.query(`SELECT name FROM "${db.schema}".migrations ORDER BY name`)) as Array<{ name: string }>;
        assert.deepEqual(
          rows.map((r) => r.name),
          ['OutboxTable1764500000000', 'PersistenceTables1732300000000', 'SpecCounter1732300000001'],
        );
        // The lock is a session lock on a connection that went back to the pool: it must be free.
        assert.equal(await migrationLockHolders(first!, db.schema!), 0);
      } finally {
        await db.dispose();
      }
    }
  });

  test('a replica waits for the migration lock, and gives up with MigrationLockTimeoutError after the timeout', async (t) => {
    const db = await testDatabase(t, 'postgres');
    if (!db) return;
    const holder = new DataSource({ type: 'postgres', url: postgresUrl });
    await holder.initialize();
    const runner = holder.createQueryRunner();
    try {
      await runner.connect();
      await runner.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [migrationLockName(db.schema!)]);
      const options = {
        app: db.app,
        dataDir: db.dataDir,
        databaseUrl: postgresUrl,
        schema: db.schema,
        entities: [...persistenceEntities],
        migrations: [...persistenceMigrations],
      };
      const err = await openDatabase({ ...options, migrationLockTimeoutMs: 300 }).then(
        () => assert.fail('expected openDatabase to reject while another session holds the lock'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof MigrationLockTimeoutError, String(err));
      assert.equal(err.code, 'IDM_DB_MIGRATION_LOCK_TIMEOUT');
      assert.match(err.message, new RegExp(`schema "${db.schema!}"`));
      // A waiting replica proceeds as soon as the holder lets go.
      const waiting = openDatabase(options);
      await waitFor(async () => (await migrationLockWaiters(holder, db.schema!)) === 1, {
        timeoutMs: 10_000,
        message: 'the replica never waited on the lock',
      });
      await runner.query(`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, [migrationLockName(db.schema!)]);
      const ds = await waiting;
      assert.equal(await ds.showMigrations(), false);
      await ds.destroy();
    } finally {
      await runner.release();
      await holder.destroy();
      await db.dispose();
    }
  });

  test('an unreachable server is a transient DatabaseUnavailableError without the password', async () => {
    const secret = 'pa55-w0rd-never-logged';
    const err = await openDatabase({
      app: 'notifier',
      // Port 9 (discard) is closed on loopback: the connection is refused at once.
      databaseUrl: `postgres://idm:${secret}@127.0.0.1:9/idm`,
      dataDir: '/nonexistent/never-used-for-postgres',
      entities: [...persistenceEntities],
      migrations: [...persistenceMigrations],
    }).then(
      () => assert.fail('expected openDatabase to reject'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DatabaseUnavailableError);
    assert.equal(err.code, 'IDM_DB_UNAVAILABLE');
    assert.equal(isTransientDatabaseError(err), true);
    assert.ok(!err.message.includes(secret), err.message);
    assert.match(err.message, /postgres:\/\/idm:\*\*\*@127\.0\.0\.1:9\/idm/);
  });
});
