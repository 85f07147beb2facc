import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseUnavailableError, isTransientDatabaseError, openDatabase, persistenceEntities, persistenceMigrations, processOnce } from './index.js';
import { counterValue, increment } from './spec-support/counter.fixture.js';
import { databaseKinds, tempDir, testDatabase } from './spec-support/test-databases.js';

for (const kind of databaseKinds) {
  describe(`openDatabase on ${kind}`, () => {
    test('migrations create the tables and are not re-run on reopen', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const first = await db.open();
        const runner = first.createQueryRunner();
        try {
          for (const table of ['inbox', 'projection_checkpoint', 'spec_counter']) assert.equal(await runner.hasTable(table), true, table);
        } finally {
          await runner.release();
        }
        await first.destroy();
        const second = await db.open();
        assert.equal(await second.showMigrations(), false);
        const rows = (await second.query(`SELECT name FROM ${kind === 'postgres' ? `"${db.schema}".` : ''}migrations ORDER BY name`)) as Array<{ name: string }>;
        assert.deepEqual(
          rows.map((r) => r.name),
          ['PersistenceTables1732300000000', 'SpecCounter1732300000001'],
        );
      } finally {
        await db.dispose();
      }
    });

    test('data survives close and reopen', async (t) => {
      const db = await testDatabase(t, kind);
      if (!db) return;
      try {
        const first = await db.open();
        await processOnce(first, 'c', 'evt-1', 1, (m) => increment(m, 'kept'));
        await first.destroy();
        const second = await db.open();
        assert.equal(await counterValue(second.manager, 'kept'), 1);
        assert.deepEqual(await processOnce(second, 'c', 'evt-1', 1, (m) => increment(m, 'kept')), { duplicate: true });
      } finally {
        await db.dispose();
      }
    });
  });
}

describe('openDatabase on sqlite specifics', () => {
  test('uses <dataDir>/<app>.sqlite in WAL mode with synchronous=FULL', async (t) => {
    const db = await testDatabase(t, 'sqlite');
    if (!db) return;
    try {
      const ds = await db.open();
      assert.equal(existsSync(join(db.dataDir, `${db.app}.sqlite`)), true);
      assert.deepEqual(await ds.query('PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
      assert.deepEqual(await ds.query('PRAGMA synchronous'), [{ synchronous: 2 }]);
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
  test('puts the tables and the migrations table in the app schema', async (t) => {
    const db = await testDatabase(t, 'postgres');
    if (!db) return;
    try {
      const ds = await db.open();
      const rows = (await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [db.schema])) as Array<{
        table_name: string;
      }>;
      assert.deepEqual(
        rows.map((r) => r.table_name),
        ['inbox', 'migrations', 'projection_checkpoint', 'spec_counter'],
      );
      assert.deepEqual(await ds.query('SHOW statement_timeout'), [{ statement_timeout: '30s' }]);
    } finally {
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
