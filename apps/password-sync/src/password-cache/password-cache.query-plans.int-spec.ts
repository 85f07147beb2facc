import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource, EntityManager } from 'typeorm';
import { runInTransaction } from '@idm/persistence';
import { testDatabases } from '@idm/testing';
import { openPasswordSyncDatabase } from '../password-sync.database.js';
import { passwordCacheStatements, type PasswordCacheStatements } from './password-cache.statements.js';

/**
 * The sweeper's queries read an index, not the table: at a million cached rows a scan per sweep
 * is what made the sweep slow. Checked on the plan each engine makes for the very SQL the
 * repository runs. On Postgres sequential scans are switched off for the check, so the plan
 * shows whether an index *can* serve the query (the planner prefers a scan on a tiny table);
 * without a usable index it still scans, and the check fails.
 */
const sweeps: ReadonlyArray<{ statement: keyof PasswordCacheStatements; index: string }> = [
  { statement: 'dueForExpiry', index: 'password_cache_expiry' },
  { statement: 'dueForRetry', index: 'password_cache_retry' },
  { statement: 'dueForFirstAttempt', index: 'password_cache_first_attempt' },
];

async function planOf(manager: EntityManager, sql: string, parameters: unknown[]): Promise<string> {
  if (manager.connection.options.type === 'postgres') {
    await manager.query('SET LOCAL enable_seqscan = off');
    const rows = (await manager.query(`EXPLAIN ${sql}`, parameters)) as Array<{ 'QUERY PLAN': string }>;
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }
  const rows = (await manager.query(`EXPLAIN QUERY PLAN ${sql}`, parameters)) as Array<{ detail: string }>;
  return rows.map((r) => r.detail).join('\n');
}

void describe('password_cache sweep queries use their indexes', async () => {
  for (const db of await testDatabases()) {
    await it(`on ${db.kind}`, async (t) => {
      if (db.unavailable !== undefined) {
        t.skip(db.unavailable);
        return;
      }
      let ds: DataSource | undefined;
      try {
        ds = await openPasswordSyncDatabase(
          db.kind === 'sqlite' ? { dataDir: db.dataDir } : { dataDir: '.', databaseUrl: db.databaseUrl, schema: db.schema },
        );
        const statements = passwordCacheStatements(ds);
        for (const { statement, index } of sweeps) {
          const plan = await runInTransaction(ds, (m) => planOf(m, statements[statement], ['2026-03-01T10:00:00.000Z', 500]));
          assert.match(plan, new RegExp(index), `${statement} on ${db.kind} reads ${index}; the plan was:\n${plan}`);
          assert.doesNotMatch(plan, /Seq Scan|^SCAN /m, `${statement} on ${db.kind} scans the table:\n${plan}`);
        }
      } finally {
        if (ds?.isInitialized) await ds.destroy();
        await db.dispose();
      }
    });
  }
});
