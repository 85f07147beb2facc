// Local stand-in for @idm/testing's testDatabases()/tempDir(), which were not exported yet when
// these specs were written. Real SQLite in a temp dir; real Postgres with a fresh schema per test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { DataSource } from 'typeorm';
import { openDatabase, persistenceEntities, persistenceMigrations } from '../index.js';
import { SpecCounter, SpecCounter1732300000001 } from './counter.fixture.js';

/** Postgres used by specs: `DATABASE_URL` or the local trust-auth `test` database. */
export const postgresUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** One database under test; `open()` may be called repeatedly (close + reopen). */
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

/** A fresh temp dir. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

/**
 * A fresh database of `kind`, or `undefined` after a visible `t.skip` when Postgres is unreachable.
 */
export async function testDatabase(t: TestContext, kind: 'sqlite' | 'postgres'): Promise<TestDatabase | undefined> {
  const suffix = randomBytes(4).toString('hex');
  const app = `spec-app-${suffix}`;
  const dataDir = tempDir('idm-persistence');
  const schema = kind === 'postgres' ? `spec_${suffix}` : undefined;
  if (kind === 'postgres') {
    const probe = new DataSource({ type: 'postgres', url: postgresUrl, connectTimeoutMS: 3000 });
    try {
      await probe.initialize();
      await probe.destroy();
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      t.skip(`postgres unreachable: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }
  const opened: DataSource[] = [];
  return {
    kind,
    app,
    dataDir,
    schema,
    async open() {
      const ds = await openDatabase({
        app,
        dataDir,
        databaseUrl: kind === 'postgres' ? postgresUrl : undefined,
        schema,
        entities: [...persistenceEntities, SpecCounter],
        migrations: [...persistenceMigrations, SpecCounter1732300000001],
      });
      opened.push(ds);
      return ds;
    },
    async dispose() {
      for (const ds of opened) if (ds.isInitialized) await ds.destroy();
      if (schema !== undefined) {
        const admin = new DataSource({ type: 'postgres', url: postgresUrl });
        await admin.initialize();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.destroy();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
