import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataSource, EntityManager } from 'typeorm';
import { FIXED_NOW } from '@idm/testing';
import { onEachNotifierDatabase } from '../notifier-database.fixture.js';
import type { PendingEmail } from './pending-email.js';
import { aPendingEmail } from './pending-email.fixture.js';
import { PendingEmailRepository } from './pending-email.repository.js';

// Right after a tick claims its emails, the database's statistics still say that no row carries
// the new token (Postgres analysed the table before the claim; SQLite has no statistics, and
// guesses an equality on an index finds a few rows). A statement on the run's claims that lets
// the database reach rows by `claim_token` then reads every claimed row for each block renewed
// and each batch of outcomes (on Postgres 62 ms per renewal of 256 keys among 10,000 claimed).
// These specs claim a table in that state and read the plans (EXPLAIN) of the statements a run
// sends per block and per batch: they must find rows by primary key, never by the claim token.

const CLAIMED = 3_000;
const BLOCK = 256;

const request = {
  tickId: 'tick-plan',
  token: 'token-plan',
  owner: 'owner-me',
  now: FIXED_NOW,
  expiredBefore: new Date(FIXED_NOW.getTime() - 15 * 60_000),
  lapsedBefore: new Date(FIXED_NOW.getTime() - 60_000),
};

/** A stand-in for `dataSource` that records the statements it is given instead of running them. */
function recorder(dataSource: DataSource): { readonly target: DataSource; readonly statements: Array<[string, unknown[]]> } {
  const statements: Array<[string, unknown[]]> = [];
  const target = {
    manager: dataSource.manager,
    options: dataSource.options,
    query: (sql: string, params: unknown[] = []) => {
      statements.push([sql, params]);
      return Promise.resolve([]);
    },
  };
  return { target: target as unknown as DataSource, statements };
}

async function planOf(dataSource: DataSource, [sql, params]: [string, unknown[]]): Promise<string> {
  if (dataSource.options.type === 'postgres') {
    const plan: Array<{ 'QUERY PLAN': string }> = await dataSource.query(`EXPLAIN ${sql}`, params);
    return plan.map((p) => p['QUERY PLAN']).join('\n');
  }
  const plan: Array<{ detail: string }> = await dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, params);
  return plan.map((p) => p.detail).join('\n');
}

describe('the statements on a run’s claims find rows by primary key, not by the claim token', () => {
  it('renewal, release and the outcomes’ delete, right after the claim, on each engine', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const repo = new PendingEmailRepository();
      const users = Array.from({ length: CLAIMED }, (_, i) => `user-${String(i).padStart(5, '0')}`);
      await dataSource.transaction((m) =>
        repo.saveMany(
          m,
          users.map((userId) => aPendingEmail({ userId, queuedEventId: `q-${userId}` })),
        ),
      );
      // Statistics as a database that lived with the table has them before the tick: no claims.
      if (dataSource.options.type === 'postgres') await dataSource.query('ANALYZE pending_email');
      assert.equal(await repo.claim(dataSource, request), CLAIMED);

      const block: PendingEmail[] = users.slice(1_000, 1_000 + BLOCK).map((userId) => aPendingEmail({ userId }));
      const { target, statements } = recorder(dataSource);
      await repo.renewClaims(target, block, request.token, FIXED_NOW);
      await repo.release(target, request.token, block);
      // The outcomes' delete runs inside their transaction; the recorder stands for its manager too.
      await repo.deleteClaimed(
        target as unknown as EntityManager,
        block.map((p) => ({ userId: p.userId, emailType: p.emailType, claimToken: request.token })),
      );
      assert.equal(statements.length, 3, 'one statement each');
      for (const statement of statements) {
        const plan = await planOf(dataSource, statement);
        assert.doesNotMatch(plan, /IDX_pending_email_claim_token/, `not through the claim token's index:\n${statement[0]}\n${plan}`);
        if (dataSource.options.type !== 'postgres')
          assert.match(plan, /SEARCH pending_email USING (PRIMARY KEY|INDEX sqlite_autoindex_pending_email_1)/, plan);
      }

      // The plans are only worth checking if the statements do their work.
      assert.equal(await repo.renewClaims(dataSource, block, request.token, FIXED_NOW), true);
      assert.equal(await repo.release(dataSource, request.token, block.slice(0, 6)), 6);
      assert.equal(await repo.renewClaims(dataSource, block, request.token, FIXED_NOW), false, 'six claims given back');
      const deleted = await dataSource.transaction((m) =>
        repo.deleteClaimed(
          m,
          block.map((p) => ({ userId: p.userId, emailType: p.emailType, claimToken: request.token })),
        ),
      );
      assert.equal(deleted.length, BLOCK - 6, 'the rows still claimed, not those given back');
    });
  });
});
