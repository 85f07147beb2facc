import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabases } from '@idm/testing';
import type { Checkpoint } from '../changes/poll-plan.js';
import type { SnapshotRow } from '../changes/snapshot.decider.js';
import { openDirectorySourceDatabase } from '../directory-source.database.js';
import { SnapshotRepository } from './snapshot.repository.js';

const row = (i: number, stamp = 'csn-1', title: string | null = null): SnapshotRow => ({
  userId: `user-${i}`,
  entryId: `uuid-${i}`,
  stamp,
  hash: `hash-${stamp}`,
  values: { mail: `user-${i}@example.com`, enabled: true, title, groups: ['a', 'b'] },
});
const NOW = new Date('2026-11-30T10:00:00.000Z');

describe('snapshot repository on SQLite and Postgres', () => {
  it('commits upserts, deletes and the checkpoint together; reads all, some, by entry id', async (t) => {
    for (const db of await testDatabases()) {
      await t.test(db.kind, async (t2) => {
        if (db.unavailable !== undefined) return t2.skip(db.unavailable);
        const dataSource = await openDirectorySourceDatabase(
          db.kind === 'sqlite' ? { dataDir: db.dataDir } : { databaseUrl: db.databaseUrl, dataDir: '.', schema: db.schema },
        );
        try {
          const repo = new SnapshotRepository(dataSource);
          assert.equal(await repo.checkpoint(), undefined);
          // More rows than one write chunk, so the multi-row statements are exercised across chunks.
          const first = Array.from({ length: 1_234 }, (_, i) => row(i));
          const checkpoint: Checkpoint = { dialect: 'openldap', modifiedSince: '20261130095959Z', lastFullScanAt: NOW.toISOString() };
          await repo.commit(first, [], checkpoint, NOW);
          assert.equal(await repo.count(), 1_234);
          assert.deepEqual(await repo.checkpoint(), checkpoint);
          assert.deepEqual((await repo.all()).get('user-7'), row(7));

          const next: Checkpoint = {
            dialect: 'active-directory',
            dnsHostName: 'dc1',
            invocationId: 'inv',
            usn: '42',
            lastFullScanAt: NOW.toISOString(),
          };
          await repo.commit([row(7, 'csn-2', 'Analyst'), row(5000)], ['user-8', 'user-9'], next, NOW);
          assert.equal(await repo.count(), 1_233);
          assert.deepEqual(await repo.checkpoint(), next);
          const some = await repo.some(['user-7', 'user-8', 'user-5000'], ['uuid-10']);
          assert.deepEqual([...some.byUser.keys()].sort(), ['user-10', 'user-5000', 'user-7']);
          assert.deepEqual(some.byUser.get('user-7'), row(7, 'csn-2', 'Analyst'));
          assert.equal(some.byEntry.get('uuid-10')?.userId, 'user-10');
        } finally {
          await dataSource.destroy();
          await db.dispose();
        }
      });
    }
  });
});
