import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIXED_NOW } from '@idm/testing';
import type { PendingEmail } from '../pending-emails/pending-email.js';
import { ClaimRenewal } from './claim-renewal.js';

const emails: PendingEmail[] = Array.from({ length: 10 }, (_, i) => ({
  userId: `u-${i}`,
  emailType: 'NEW_USER',
  queuedEventId: `q-${i}`,
  queuedAt: FIXED_NOW,
  firstQueuedAt: FIXED_NOW,
  attempts: 0,
  lastError: null,
  claimedTick: 'tick-1',
  claimedAt: FIXED_NOW,
  claimToken: 'token-1',
  context: {},
}));
const at = (ms: number) => new Date(FIXED_NOW.getTime() + ms);

/** A renewal recording each statement's emails; `lost` names users whose claim is gone. */
function recorder(lost: ReadonlySet<string> = new Set()) {
  const statements: string[][] = [];
  return {
    statements,
    renew: (batch: readonly PendingEmail[]) => {
      statements.push(batch.map((p) => p.userId));
      return Promise.resolve(batch.every((p) => !lost.has(p.userId)));
    },
  };
}

describe('claims renewed a block at a time ahead of the send lanes', () => {
  it('given 10 emails and blocks of 4, when all are taken in order, then 3 statements renew them', async () => {
    const r = recorder();
    const renewal = new ClaimRenewal(emails, r.renew, 4, 10_000);
    const covered = await Promise.all(emails.map((_, i) => renewal.covered(i, at(0))));
    assert.deepEqual(covered, Array(10).fill(true));
    assert.deepEqual(r.statements, [
      ['u-0', 'u-1', 'u-2', 'u-3'],
      ['u-4', 'u-5', 'u-6', 'u-7'],
      ['u-8', 'u-9'],
    ]);
  });

  it('given a block renewed longer ago than the age limit, when the next email is taken, then a new block starts from it', async () => {
    const r = recorder();
    const renewal = new ClaimRenewal(emails, r.renew, 4, 10_000);
    assert.equal(await renewal.covered(0, at(0)), true);
    assert.equal(await renewal.covered(1, at(10_000)), true);
    assert.equal(await renewal.covered(2, at(10_001)), true);
    assert.deepEqual(r.statements, [
      ['u-0', 'u-1', 'u-2', 'u-3'],
      ['u-2', 'u-3', 'u-4', 'u-5'],
    ]);
  });

  it('given a block with a lost claim, then each email of that block is reported uncovered and the next block is not', async () => {
    const r = recorder(new Set(['u-5']));
    const renewal = new ClaimRenewal(emails, r.renew, 4, 10_000);
    const covered = await Promise.all(emails.map((_, i) => renewal.covered(i, at(0))));
    assert.deepEqual(covered, [true, true, true, true, false, false, false, false, true, true]);
  });

  it('given the database refuses, then every email of the block gets its error', async () => {
    const renewal = new ClaimRenewal(emails, () => Promise.reject(new Error('database down')), 4, 10_000);
    await assert.rejects(renewal.covered(0, at(0)), /database down/);
    await assert.rejects(renewal.covered(1, at(0)), /database down/);
  });
});
