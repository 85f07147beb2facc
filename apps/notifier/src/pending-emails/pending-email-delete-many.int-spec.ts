import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onEachNotifierDatabase } from '../notifier-database.fixture.js';
import type { PendingEmail } from './pending-email.js';
import { aPendingEmail } from './pending-email.fixture.js';
import { PendingEmailRepository } from './pending-email.repository.js';

// A drained tick's outcomes clear their flags with one DELETE of the rows their claims still hold
// (or read their rows with one locked SELECT, and delete by key): each must touch exactly the
// listed (user, email type) keys — not another type of the same user, nor the same type of another
// user, nor a row another claim holds — on both engines, across SQLite's chunks.

function pending(userId: string, emailType: string): PendingEmail {
  return aPendingEmail({ userId, emailType, queuedEventId: `q-${userId}-${emailType}` });
}

describe('reading and deleting many pending emails by key', () => {
  it('reads and deletes exactly the listed keys, on each engine', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const repo = new PendingEmailRepository();
      const users = Array.from({ length: 450 }, (_, i) => `user-${i}`);
      await dataSource.transaction((m) =>
        repo.saveMany(
          m,
          users.flatMap((u) => [pending(u, 'NEW_USER'), pending(u, 'PASSWORD_EXPIRY')]),
        ),
      );
      // Every NEW_USER of the even users (225 keys: two chunks), one key twice, one key without a row.
      const keys = users.filter((_, i) => i % 2 === 0).map((userId) => ({ userId, emailType: 'NEW_USER' }));
      const listed = [...keys, keys[0]!, { userId: 'nobody', emailType: 'NEW_USER' }];
      const found = await dataSource.transaction(async (m) => {
        const rows = await repo.findMany(m, listed, true);
        await repo.deleteKeys(m, listed);
        return rows;
      });
      assert.deepEqual([...found.keys()].sort(), keys.map((k) => `${k.userId}\u0000NEW_USER`).sort());
      assert.equal(found.get(`${keys[1]!.userId}\u0000NEW_USER`)?.queuedEventId, `q-${keys[1]!.userId}-NEW_USER`, 'whole rows');
      const left = await repo.typesForMany(dataSource, users);
      users.forEach((u, i) =>
        assert.deepEqual([...(left.get(u) ?? [])].sort(), i % 2 === 0 ? ['PASSWORD_EXPIRY'] : ['NEW_USER', 'PASSWORD_EXPIRY'], u),
      );
      assert.equal((await dataSource.transaction((m) => repo.findMany(m, []))).size, 0);
      await dataSource.transaction((m) => repo.deleteKeys(m, []));
    });
  });

  it('deletes exactly the listed claims that still hold their rows, and says which, on each engine', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const repo = new PendingEmailRepository();
      const users = Array.from({ length: 700 }, (_, i) => `user-${i}`);
      const claimedBy = (i: number) => (i % 7 === 3 ? 'token-other' : i % 7 === 5 ? null : 'token-mine');
      await dataSource.transaction((m) =>
        repo.saveMany(
          m,
          users.flatMap((u, i) => [
            { ...pending(u, 'NEW_USER'), claimedTick: 'tick', claimedAt: new Date(0), claimToken: claimedBy(i) },
            { ...pending(u, 'PASSWORD_EXPIRY'), claimedTick: 'tick', claimedAt: new Date(0), claimToken: 'token-mine' },
          ]),
        ),
      );
      // Every NEW_USER with this run's token (three SQLite chunks), one claim twice, one key without a row.
      const claims = users.map((userId) => ({ userId, emailType: 'NEW_USER', claimToken: 'token-mine' }));
      const listed = [...claims, claims[0]!, { userId: 'nobody', emailType: 'NEW_USER', claimToken: 'token-mine' }];
      const deleted = await dataSource.transaction((m) => repo.deleteClaimed(m, listed));
      const mine = users.filter((_, i) => claimedBy(i) === 'token-mine');
      assert.deepEqual(deleted.map((k) => `${k.userId}/${k.emailType}`).sort(), mine.map((u) => `${u}/NEW_USER`).sort());
      const left = await repo.typesForMany(dataSource, users);
      users.forEach((u, i) =>
        assert.deepEqual(
          [...(left.get(u) ?? [])].sort(),
          claimedBy(i) === 'token-mine' ? ['PASSWORD_EXPIRY'] : ['NEW_USER', 'PASSWORD_EXPIRY'],
          u,
        ),
      );
      assert.deepEqual(await dataSource.transaction((m) => repo.deleteClaimed(m, [])), []);
    });
  });

  it("reads all of one user's pending emails, whole and by type, and no other user's, on each engine", async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const repo = new PendingEmailRepository();
      const types = ['PASSWORD_SYNC_FAILED', 'NEW_USER', 'PROFILE_CHANGED'];
      await dataSource.transaction((m) =>
        repo.saveMany(m, [...types.map((type) => pending('ada', type)), pending('ada-2', 'NEW_USER'), pending('bob', 'PASSWORD_EXPIRY')]),
      );
      const all = await dataSource.transaction((m) => repo.allFor(m, 'ada'));
      assert.deepEqual(
        all.map((p) => [p.userId, p.emailType, p.queuedEventId]),
        [...types].sort().map((type) => ['ada', type, `q-ada-${type}`]),
      );
      assert.deepEqual(await repo.allFor(dataSource, 'nobody'), []);
    });
  });
});
