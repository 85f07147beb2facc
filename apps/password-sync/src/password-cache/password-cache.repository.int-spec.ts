import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { runInTransaction } from '@idm/persistence';
import { testDatabases, type TestDatabase } from '@idm/testing';
import type { CachedPassword, PasswordCacheState } from './password-cache.decider.js';
import { PasswordCacheRepository } from './password-cache.repository.js';
import { openPasswordSyncDatabase } from '../password-sync.database.js';
import { PasswordSealer } from './sealed-secret.js';

const T0 = '2026-03-01T10:00:00.000Z';
const plus = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();
const sealer = new PasswordSealer(randomBytes(32));

function cached(userId: string, overrides: Partial<CachedPassword> = {}): CachedPassword {
  return {
    status: 'cached',
    userId,
    origin: 'source',
    sealed: sealer.seal('Repo-Passw0rd', userId),
    changedAt: T0,
    cachedAt: T0,
    attempts: 1,
    expiresAt: plus(T0, 3_600_000),
    lastReason: 'user-not-found',
    lastMessage: 'no entry',
    unavailableStreak: 0,
    nextRetryAt: null,
    ...overrides,
  };
}

async function eachDatabase(name: string, body: (open: () => Promise<DataSource>) => Promise<void>): Promise<void> {
  const dbs: TestDatabase[] = await testDatabases();
  await describe(name, async () => {
    for (const db of dbs) {
      await it(`on ${db.kind}`, async (t) => {
        if (db.unavailable !== undefined) {
          t.skip(db.unavailable);
          return;
        }
        const opened: DataSource[] = [];
        const open = async () => {
          const ds = await openPasswordSyncDatabase(
            db.kind === 'sqlite' ? { dataDir: db.dataDir } : { dataDir: '.', databaseUrl: db.databaseUrl, schema: db.schema },
          );
          opened.push(ds);
          return ds;
        };
        try {
          await body(open);
        } finally {
          for (const ds of opened) if (ds.isInitialized) await ds.destroy();
          await db.dispose();
        }
      });
    }
  });
}

const repo = new PasswordCacheRepository();
const tx = <T>(ds: DataSource, work: Parameters<typeof runInTransaction<T>>[1]) => runInTransaction<T>(ds, work);

void eachDatabase('PasswordCacheRepository', async (open) => {
  const ds = await open();

  // empty
  assert.deepEqual(await tx(ds, (m) => repo.load(m, 'nobody')), { status: 'empty', userId: 'nobody' });

  // round trip of a cached password, still openable
  const state = cached('u1', { lastReason: 'target-unavailable', unavailableStreak: 2, nextRetryAt: plus(T0, 10_000) });
  assert.equal(await tx(ds, (m) => repo.save(m, state)), 'saved');
  const loaded = (await tx(ds, (m) => repo.load(m, 'u1'))) as CachedPassword;
  assert.equal(loaded.status, 'cached');
  assert.deepEqual({ ...loaded, sealed: undefined }, { ...state, sealed: undefined });
  assert.equal(sealer.open(loaded.sealed, 'u1').toString('utf8'), 'Repo-Passw0rd');

  // the sweeps find what is due, and nothing early
  await tx(ds, (m) => repo.save(m, cached('u2', { expiresAt: plus(T0, 60_000) })));
  await tx(ds, (m) => repo.save(m, cached('u3', { expiresAt: null })));
  assert.deepEqual(await tx(ds, (m) => repo.dueForExpiry(m, new Date(plus(T0, 59_999)))), []);
  assert.deepEqual(await tx(ds, (m) => repo.dueForExpiry(m, new Date(plus(T0, 60_000)))), ['u2']);
  assert.deepEqual(await tx(ds, (m) => repo.dueForExpiry(m, new Date(plus(T0, 3_600_000)))), ['u2', 'u1']);
  assert.deepEqual(await tx(ds, (m) => repo.dueForRetry(m, new Date(plus(T0, 9_999)))), []);
  assert.deepEqual(await tx(ds, (m) => repo.dueForRetry(m, new Date(plus(T0, 10_000)))), ['u1']);
  assert.equal(await tx(ds, (m) => repo.countCached(m)), 3);
  // the metrics' view: earliest expiry among cached rows (u3 never expires), the longest unavailable streak (u1)
  assert.deepEqual(await tx(ds, (m) => repo.cachedHealth(m)), {
    earliestExpiresAt: new Date(plus(T0, 60_000)),
    longestUnavailableStreak: 2,
  });

  // leaving `cached` overwrites the secret columns, not just the state
  const synced: PasswordCacheState = {
    status: 'synced',
    userId: 'u1',
    origin: 'source',
    changedAt: T0,
    cachedAt: T0,
    attempts: 2,
    syncedAt: plus(T0, 20_000),
  };
  await tx(ds, (m) => repo.save(m, synced));
  const raw = (await ds.query(`SELECT state, ciphertext, nonce, tag, key_id FROM password_cache WHERE user_id = 'u1'`)) as Record<
    string,
    unknown
  >[];
  assert.deepEqual(raw, [{ state: 'synced', ciphertext: null, nonce: null, tag: null, key_id: null }]);
  assert.deepEqual(await tx(ds, (m) => repo.load(m, 'u1')), synced);
  assert.equal(await tx(ds, (m) => repo.countCached(m)), 2);
  // only cached rows count: u1 synced takes its streak with it
  assert.deepEqual(await tx(ds, (m) => repo.cachedHealth(m)), {
    earliestExpiresAt: new Date(plus(T0, 60_000)),
    longestUnavailableStreak: 0,
  });

  // newest change wins even against a caller that decided on an old read
  await tx(ds, (m) => repo.save(m, cached('u4', { changedAt: plus(T0, 5_000) })));
  assert.equal(await tx(ds, (m) => repo.save(m, cached('u4', { changedAt: T0 }))), 'stale');
  assert.equal(((await tx(ds, (m) => repo.load(m, 'u4'))) as CachedPassword).changedAt, plus(T0, 5_000));

  // accepted but never attempted: found once cached by the cut-off, and no longer once an attempt is recorded
  await tx(ds, (m) => repo.save(m, cached('u5', { attempts: 0, lastReason: null, lastMessage: null, cachedAt: plus(T0, 1_000) })));
  assert.deepEqual(await tx(ds, (m) => repo.dueForFirstAttempt(m, new Date(T0))), []);
  assert.deepEqual(await tx(ds, (m) => repo.dueForFirstAttempt(m, new Date(plus(T0, 1_000)))), ['u5']);
  await tx(ds, (m) => repo.save(m, cached('u5', { attempts: 1, lastReason: 'user-not-found', cachedAt: plus(T0, 1_000) })));
  assert.deepEqual(await tx(ds, (m) => repo.dueForFirstAttempt(m, new Date(plus(T0, 1_000)))), []);

  // an outcome decided on an earlier read is written only over exactly that row
  const read = cached('u6', { attempts: 0, lastReason: null, lastMessage: null });
  await tx(ds, (m) => repo.save(m, read));
  const failedOnce: CachedPassword = { ...read, attempts: 1, lastReason: 'user-not-found', lastMessage: 'no entry' };
  assert.equal(await tx(ds, (m) => repo.saveIfUnchanged(m, failedOnce, read)), true);
  assert.deepEqual({ ...(await tx(ds, (m) => repo.load(m, 'u6'))), sealed: undefined }, { ...failedOnce, sealed: undefined });
  // the same decision again: the attempt count moved on, nothing is written
  const syncedU6: PasswordCacheState = { ...synced, userId: 'u6', attempts: 1, syncedAt: plus(T0, 30_000) };
  assert.equal(await tx(ds, (m) => repo.saveIfUnchanged(m, syncedU6, read)), false);
  // a newer password (another change time, another seal) or a re-seal (another nonce) in between: nothing is written
  const newer = cached('u6', { changedAt: plus(T0, 1_000), attempts: 0, lastReason: null, lastMessage: null });
  await tx(ds, (m) => repo.save(m, newer));
  assert.equal(await tx(ds, (m) => repo.saveIfUnchanged(m, { ...syncedU6, attempts: 2 }, failedOnce)), false);
  const resealed = { ...newer, sealed: sealer.seal('Repo-Passw0rd', 'u6') };
  await tx(ds, (m) => repo.reseal(m, 'u6', newer.sealed, resealed.sealed));
  assert.equal(await tx(ds, (m) => repo.saveIfUnchanged(m, { ...syncedU6, changedAt: newer.changedAt }, newer)), false);
  assert.deepEqual(await tx(ds, (m) => repo.load(m, 'u6')), resealed, 'the row as the newer change and the re-seal left it');
  // no row at all: nothing is inserted
  assert.equal(await tx(ds, (m) => repo.saveIfUnchanged(m, { ...syncedU6, userId: 'u7' }, { ...read, userId: 'u7' })), false);
  assert.deepEqual(await tx(ds, (m) => repo.load(m, 'u7')), { status: 'empty', userId: 'u7' });

  // the cache and its expiry times survive a restart
  await ds.destroy();
  const again = await open();
  const reloaded = (await tx(again, (m) => repo.load(m, 'u2'))) as CachedPassword;
  assert.equal(reloaded.expiresAt, plus(T0, 60_000));
  assert.equal(sealer.open(reloaded.sealed, 'u2').toString('utf8'), 'Repo-Passw0rd');
});
