import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import type { DataSource } from 'typeorm';
import { DEFAULT_TEST_DATABASE_URL, locationOf, testDatabaseOf } from '@idm/testing';
import { openDatabase, persistenceEntities, persistenceMigrations } from '../index.js';
import { SpecCounter, SpecCounter1732300000001 } from './counter.fixture.js';

/** Postgres used by specs: `DATABASE_URL`, else @idm/testing's local trust-auth `test` database. */
export const postgresUrl = process.env.DATABASE_URL || DEFAULT_TEST_DATABASE_URL;

/**
 * One database under test, opened with this lib's tables and the spec counter; `open()` may be
 * called repeatedly (close + reopen).
 */
export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgres';
  readonly app: string;
  readonly dataDir: string;
  /** Postgres schema (undefined on SQLite). */
  readonly schema: string | undefined;
  open(): Promise<DataSource>;
  /** Closes what `open` returned and removes the temp dir / drops the schema. */
  dispose(): Promise<void>;
}

export const databaseKinds = ['sqlite', 'postgres'] as const;

/**
 * A fresh database of `kind` from @idm/testing's `testDatabaseOf()` (a temp dir, or a new Postgres
 * schema), or `undefined` after a visible `t.skip` when Postgres is unreachable.
 */
export async function testDatabase(t: TestContext, kind: 'sqlite' | 'postgres'): Promise<TestDatabase | undefined> {
  const db = await testDatabaseOf(kind);
  if (db.unavailable !== undefined) {
    t.skip(db.unavailable);
    return undefined;
  }
  const app = `spec-app-${randomBytes(4).toString('hex')}`;
  const location = locationOf(db);
  const opened: DataSource[] = [];
  return {
    kind,
    app,
    dataDir: location.dataDir,
    schema: db.kind === 'postgres' ? db.schema : undefined,
    async open() {
      const ds = await openDatabase({
        app,
        ...location,
        entities: [...persistenceEntities, SpecCounter],
        migrations: [...persistenceMigrations, SpecCounter1732300000001],
      });
      opened.push(ds);
      return ds;
    },
    async dispose() {
      for (const ds of opened) if (ds.isInitialized) await ds.destroy();
      await db.dispose();
    },
  };
}

/**
 * A `test` named `name` that runs `body` on a fresh database of `kind` and disposes of it
 * afterwards, pass or fail; skipped visibly when Postgres is unreachable.
 */
export function testOnDatabase(kind: 'sqlite' | 'postgres', name: string, body: (db: TestDatabase) => Promise<void>): void {
  test(name, async (t) => {
    const db = await testDatabase(t, kind);
    if (!db) return;
    try {
      await body(db);
    } finally {
      await db.dispose();
    }
  });
}
