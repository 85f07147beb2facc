import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { freePort } from './free-port.js';
import { tempDir } from './temp-dir.js';
import { testDatabaseOf, testDatabases } from './test-databases.js';

interface PgClient {
  connect(): Promise<void>;
  query(sql: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}
const pg = createRequire(import.meta.url)('pg') as { Client: new (config: { connectionString: string }) => PgClient };

test('testDatabases: SQLite gets a fresh empty directory, removed by dispose', async () => {
  const [sqlite, postgres] = await testDatabases();
  assert.equal(sqlite.kind, 'sqlite');
  assert.deepEqual(readdirSync(sqlite.dataDir), []);
  await sqlite.dispose();
  assert.equal(existsSync(sqlite.dataDir), false);
  if (postgres.unavailable === undefined) await postgres.dispose();
});

test('testDatabases: Postgres gets a unique schema per call, dropped by dispose', async (t) => {
  const [a, first] = await testDatabases();
  const [b, second] = await testDatabases();
  await a.dispose();
  await b.dispose();
  if (first.unavailable !== undefined || second.unavailable !== undefined) {
    t.skip(first.unavailable ?? second.unavailable);
    return;
  }
  assert.notEqual(first.schema, second.schema);
  assert.match(first.schema, /^t_[0-9a-f]+$/);
  const client = new pg.Client({ connectionString: first.databaseUrl });
  await client.connect();
  t.after(() => client.end());
  await client.query(`create schema "${first.schema}"`);
  await client.query(`create table "${first.schema}".probe (id int)`);
  await first.dispose();
  await second.dispose(); // never created: dropping must still succeed
  const { rows } = await client.query('select 1 from information_schema.schemata where schema_name = $1', [first.schema]);
  assert.equal(rows.length, 0);
});

test('testDatabases: an unreachable Postgres is reported, not thrown', async (t) => {
  const previous = process.env.DATABASE_URL;
  t.after(() => {
    if (previous === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = previous;
  });
  process.env.DATABASE_URL = `postgres://postgres:hunter2@127.0.0.1:${await freePort()}/test`;
  const [sqlite, postgres] = await testDatabases();
  await sqlite.dispose();
  assert.equal(postgres.kind, 'postgres');
  assert.match(postgres.unavailable ?? '', /unreachable/);
  assert.doesNotMatch(postgres.unavailable ?? '', /hunter2/);
});

test('testDatabaseOf: one engine only; a Postgres pass leaves no SQLite folder behind', async (t) => {
  // os.tmpdir() follows TMPDIR: an empty folder of this test's own shows whatever is left behind.
  const tmp = tempDir('idm-tmpdir');
  const previous = process.env.TMPDIR;
  t.after(() => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(tmp, { recursive: true, force: true });
  });
  process.env.TMPDIR = tmp;
  const postgres = await testDatabaseOf('postgres');
  assert.equal(postgres.kind, 'postgres');
  assert.deepEqual(readdirSync(tmp), [], 'no SQLite folder left for a Postgres pass');
  if (postgres.unavailable === undefined) await postgres.dispose();
  const sqlite = await testDatabaseOf('sqlite');
  assert.equal(sqlite.kind, 'sqlite');
  assert.deepEqual(readdirSync(sqlite.dataDir), []);
  await sqlite.dispose();
  assert.deepEqual(readdirSync(tmp), []);
});
