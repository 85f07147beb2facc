import type { TestContext } from 'node:test';
import type { DataSource } from 'typeorm';
import { onEachTestDatabase, testDatabases } from '@idm/testing';
import { openNotifierDatabase } from './notifier.database.js';

/**
 * Runs `run` on a fresh notifier database (migrated) of each engine: SQLite, then Postgres when it
 * answers (otherwise a diagnostic says why it was skipped). Each is closed and dropped afterwards.
 */
export async function onEachNotifierDatabase(t: TestContext, run: (dataSource: DataSource) => Promise<void>): Promise<void> {
  const dbs = await testDatabases();
  try {
    await onEachTestDatabase(
      dbs,
      async (location) => {
        const dataSource = await openNotifierDatabase(location);
        try {
          await run(dataSource);
        } finally {
          await dataSource.destroy();
        }
      },
      (message) => t.diagnostic(message),
    );
  } finally {
    for (const db of dbs) if (db.unavailable === undefined) await db.dispose();
  }
}
