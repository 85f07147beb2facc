import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { testDatabaseOf, FIXED_NOW } from '@idm/testing';
import { InstanceLeaseEntity } from '../instance-lease/instance-lease.entity.js';
import { openNotifierDatabase } from '../notifier.database.js';
import { PendingEmailEntity } from './pending-email.entity.js';
import { PendingEmailRepository, type ClaimRequest } from './pending-email.repository.js';

// The claim of a tick must cost what the free rows cost, not what the table holds: a replica
// draining a large backlog holds most rows, and every other tick claims again beside it. These
// specs fill the table so that a full scan would be the wrong plan, then read the database's own
// plan of the claim's UPDATE (EXPLAIN) and check it reaches pending_email through indexes only.

const HELD = 20_000;
const MINUTE = 60_000;
const at = (ms: number) => new Date(FIXED_NOW.getTime() + ms);

const request: ClaimRequest = {
  tickId: 'tick-plan',
  token: 'token-plan',
  owner: 'owner-me',
  now: FIXED_NOW,
  expiredBefore: new Date(FIXED_NOW.getTime() - 15 * MINUTE),
  lapsedBefore: new Date(FIXED_NOW.getTime() - MINUTE),
};

function row(userId: string, claim: { token: string; owner: string; at: number } | undefined) {
  return {
    userId,
    emailType: 'NEW_USER',
    queuedEventId: `q-${userId}`,
    queuedAt: at(-2 * MINUTE),
    firstQueuedAt: at(-2 * MINUTE),
    attempts: 0,
    lastError: null,
    claimedTick: claim ? 'tick-other' : null,
    claimedAt: claim ? at(claim.at) : null,
    claimToken: claim?.token ?? null,
    claimOwner: claim?.owner ?? null,
    context: '{}',
  };
}

/**
 * HELD rows claimed (fresh) by a live replica, plus what the claim must take: 5 unclaimed, 3 of a
 * dead owner without a lease row, 2 of an owner whose lease lapsed, 2 claimed past the TTL by the live one.
 */
async function fill(dataSource: DataSource): Promise<void> {
  await dataSource
    .createQueryBuilder()
    .insert()
    .into(InstanceLeaseEntity)
    .values([
      { instanceId: 'owner-live', incarnation: 'i-1', startedAt: at(-60 * MINUTE), heartbeatAt: at(-1000) },
      { instanceId: 'owner-me', incarnation: 'i-2', startedAt: at(-60 * MINUTE), heartbeatAt: at(0) },
      { instanceId: 'owner-lapsed', incarnation: 'i-3', startedAt: at(-60 * MINUTE), heartbeatAt: at(-5 * MINUTE) },
    ])
    .execute();
  const rows = [
    ...Array.from({ length: HELD }, (_, i) => row(`held-${i}`, { token: 'token-live', owner: 'owner-live', at: -1000 })),
    ...Array.from({ length: 5 }, (_, i) => row(`free-${i}`, undefined)),
    ...Array.from({ length: 3 }, (_, i) => row(`dead-${i}`, { token: 'token-dead', owner: 'owner-dead', at: -1000 })),
    ...Array.from({ length: 2 }, (_, i) => row(`lapsed-${i}`, { token: 'token-lapsed', owner: 'owner-lapsed', at: -1000 })),
    ...Array.from({ length: 2 }, (_, i) => row(`expired-${i}`, { token: 'token-live', owner: 'owner-live', at: -20 * MINUTE })),
  ];
  for (let i = 0; i < rows.length; i += 500) {
    await dataSource
      .createQueryBuilder()
      .insert()
      .into(PendingEmailEntity)
      .values(rows.slice(i, i + 500))
      .execute();
  }
  // Statistics, as a database that has lived with the table would have them.
  await dataSource.query('ANALYZE');
}

async function claimPlan(dataSource: DataSource, kind: 'sqlite' | 'postgres'): Promise<string[]> {
  const statement = await new PendingEmailRepository().claimStatement(dataSource.manager, request);
  const [sql, params] = statement.getQueryAndParameters();
  if (kind === 'sqlite') {
    const plan: Array<{ detail: string }> = await dataSource.query(`EXPLAIN QUERY PLAN ${sql}`, params);
    return plan.map((p) => p.detail);
  }
  const plan: Array<{ 'QUERY PLAN': string }> = await dataSource.query(`EXPLAIN ${sql}`, params);
  return plan.map((p) => p['QUERY PLAN']);
}

describe('the claim reaches pending_email through its indexes, not a scan of every pending email', () => {
  for (const kind of ['sqlite', 'postgres'] as const) {
    it(kind, async (t) => {
      const db = await testDatabaseOf(kind);
      if (db.unavailable !== undefined) {
        t.skip(db.unavailable);
        return;
      }
      const dataSource = await openNotifierDatabase(
        db.kind === 'sqlite' ? { dataDir: db.dataDir } : { databaseUrl: db.databaseUrl, dataDir: '.', schema: db.schema },
      );
      try {
        await fill(dataSource);
        const plan = await claimPlan(dataSource, kind);
        const text = plan.join('\n');
        if (kind === 'sqlite') {
          assert.match(text, /MULTI-INDEX OR/, `one index search per arm of the claim:\n${text}`);
          assert.ok(!plan.some((line) => /^SCAN pending_email\b/.test(line.trim())), `no full scan of pending_email:\n${text}`);
          assert.match(text, /SEARCH pending_email USING INDEX IDX_pending_email_claim_owner/, text);
        } else {
          assert.doesNotMatch(text, /Seq Scan on pending_email/, `no full scan of pending_email:\n${text}`);
          assert.match(text, /Index Scan (using|on) "?IDX_pending_email_claim_owner"?/, text);
        }

        // The plan is only worth checking if the statement claims exactly the free rows.
        const claimed = await new PendingEmailRepository().claim(dataSource, request);
        assert.equal(claimed, 12, 'unclaimed 5 + dead owner 3 + lapsed owner 2 + past the TTL 2');
        const ours = await new PendingEmailRepository().claimed(dataSource, request.token);
        assert.deepEqual(ours.map((p) => p.userId.replace(/-\d+$/, '')).sort(), [
          'dead',
          'dead',
          'dead',
          'expired',
          'expired',
          'free',
          'free',
          'free',
          'free',
          'free',
          'lapsed',
          'lapsed',
        ]);
      } finally {
        await dataSource.destroy();
        await db.dispose();
      }
    });
  }
});
