import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anEvent, FIXED_NOW } from '@idm/testing';
import { evolveQueuedEmail } from './email-queued.evolve.js';
import type { PendingEmail } from './pending-email.js';

describe('rebuilding a flag from EmailQueued', () => {
  describe('given no pending email of that type', () => {
    it('when EmailQueued is applied, then the flag is raised with the event id, time and the cause context', () => {
      const queued = anEvent.emailQueued({ emailType: 'PASSWORD_SYNC_FAILED' }, { id: 'q-9' });
      assert.deepEqual(evolveQueuedEmail(undefined, queued, { syncFailureReason: 'policy-violation' }), {
        kind: 'save',
        pending: {
          userId: 'u-1001',
          emailType: 'PASSWORD_SYNC_FAILED',
          queuedEventId: 'q-9',
          queuedAt: FIXED_NOW,
          firstQueuedAt: FIXED_NOW,
          attempts: 0,
          lastError: null,
          claimedTick: null,
          claimedAt: null,
          claimToken: null,
          context: { syncFailureReason: 'policy-violation' },
        },
      });
    });
  });

  describe('given the type is already pending', () => {
    it('when EmailQueued is applied, then nothing happens (already-pending)', () => {
      const pending: PendingEmail = {
        userId: 'u-1001',
        emailType: 'NEW_USER',
        queuedEventId: 'q-1',
        queuedAt: FIXED_NOW,
        firstQueuedAt: FIXED_NOW,
        attempts: 1,
        lastError: '451',
        claimedTick: null,
        claimedAt: null,
        claimToken: null,
        context: {},
      };
      assert.deepEqual(evolveQueuedEmail(pending, anEvent.emailQueued(), {}), { kind: 'ignore', reason: 'already-pending' });
    });
  });
});
