import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { tempDir } from '@idm/testing';
import { GroupCommit } from './group-commit.js';
import { openPasswordSyncDatabase } from '../password-sync.database.js';
import { PasswordCacheRow } from './password-cache.entity.js';

function row(userId: string): PasswordCacheRow {
  const r = new PasswordCacheRow();
  Object.assign(r, {
    userId,
    state: 'synced',
    origin: 'source',
    ciphertext: null,
    nonce: null,
    tag: null,
    keyId: null,
    changedAt: new Date('2026-03-01T10:00:00.000Z'),
    cachedAt: new Date('2026-03-01T10:00:00.000Z'),
    expiresAt: null,
    attempts: 1,
    unavailableStreak: 0,
    lastReason: null,
    lastMessage: null,
    nextRetryAt: null,
    settledAt: new Date('2026-03-01T10:00:01.000Z'),
  });
  return r;
}

describe('GroupCommit (real SQLite)', () => {
  let dataSource: DataSource;
  let dir: string;
  before(async () => {
    dir = tempDir('group-commit');
    dataSource = await openPasswordSyncDatabase({ dataDir: dir });
  });
  after(async () => {
    await dataSource?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const count = (userId: string) => dataSource.manager.count(PasswordCacheRow, { where: { userId } });

  it('runs units queued together in one transaction and publishes in order per key before the commit', async () => {
    const gc = new GroupCommit(dataSource);
    const published: string[] = [];
    const unit = (userId: string, n: number) =>
      gc.run(async (manager, defer) => {
        await manager.save(row(`${userId}-${n}`));
        defer(userId, async () => {
          // Publishes of other keys may interleave; one key's stay in order.
          await new Promise((r) => setTimeout(r, n % 2 === 0 ? 5 : 0));
          published.push(`${userId}:${n}`);
        });
        return n;
      });
    const results = await Promise.all([unit('a', 0), unit('a', 1), unit('b', 0), unit('a', 2), unit('b', 1)]);
    assert.deepEqual(results, [0, 1, 0, 2, 1]);
    assert.deepEqual(
      published.filter((p) => p.startsWith('a:')),
      ['a:0', 'a:1', 'a:2'],
    );
    assert.deepEqual(
      published.filter((p) => p.startsWith('b:')),
      ['b:0', 'b:1'],
    );
    assert.equal(await count('a-2'), 1);
  });

  it('fails only the unit that throws; the others of its batch commit', async () => {
    const gc = new GroupCommit(dataSource);
    const outcomes = await Promise.allSettled([
      gc.run(async (m) => void (await m.save(row('ok-1')))),
      gc.run(async (m) => {
        await m.save(row('bad'));
        throw new Error('this unit fails');
      }),
      gc.run(async (m) => void (await m.save(row('ok-2')))),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(await count('ok-1'), 1);
    assert.equal(await count('ok-2'), 1);
    assert.equal(await count('bad'), 0, 'the failing unit left nothing behind');
  });

  it('rolls back a unit whose publish fails; the state is not committed without its event', async () => {
    const gc = new GroupCommit(dataSource);
    const outcomes = await Promise.allSettled([
      gc.run(async (m, defer) => {
        await m.save(row('unpublished'));
        defer('u', () => Promise.reject(new Error('NATS is down')));
      }),
      gc.run(async (m, defer) => {
        await m.save(row('published'));
        defer('p', () => Promise.resolve());
      }),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'fulfilled'],
    );
    assert.equal(await count('unpublished'), 0);
    assert.equal(await count('published'), 1);
  });
});
