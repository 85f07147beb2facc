import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveEventId } from '@idm/contracts';
import { anEvent, FIXED_NOW } from '@idm/testing';
import type { PendingEmail } from './pending-email.js';
import { aPendingEmail } from './pending-email.fixture.js';
import { decideUserRemoval } from './user-removal.decider.js';

const ctx = { now: FIXED_NOW, source: '/idm/notifier' };

function pending(emailType: string, attempts: number): PendingEmail {
  return aPendingEmail({ emailType, queuedEventId: `q-${emailType}`, attempts, lastError: attempts > 0 ? '451 try later' : null });
}

describe('user removal', () => {
  describe('given no pending email for the user', () => {
    it('when UserRemoved, then the recipient is forgotten and nothing is appended', () => {
      assert.deepEqual(decideUserRemoval(anEvent.userRemoved(), [], ctx), { forgetRecipient: true, events: [] });
    });
  });

  describe('given pending emails', () => {
    it('when UserRemoved(deleted), then each is abandoned with its attempts, the removal as last error and an id derived from the removal', () => {
      const removed = anEvent.userRemoved({ reason: 'deleted' });
      const decision = decideUserRemoval(removed, [pending('PASSWORD_CHANGED', 2), pending('NEW_USER', 0)], ctx);
      assert.equal(decision.forgetRecipient, true);
      assert.deepEqual(
        decision.events.map((e) => ({ id: e.id, data: e.data, causationid: e.causationid })),
        [
          {
            id: deriveEventId(removed.id, 'idm.email.abandoned', 'u-1001', 'NEW_USER'),
            data: { userId: 'u-1001', emailType: 'NEW_USER', attempts: 0, lastError: 'user removed from the source directory (deleted)' },
            causationid: removed.id,
          },
          {
            id: deriveEventId(removed.id, 'idm.email.abandoned', 'u-1001', 'PASSWORD_CHANGED'),
            data: {
              userId: 'u-1001',
              emailType: 'PASSWORD_CHANGED',
              attempts: 2,
              lastError: 'user removed from the source directory (deleted)',
            },
            causationid: removed.id,
          },
        ],
      );
    });

    it('when UserRemoved(moved-out-of-scope), then the last error says so', () => {
      const decision = decideUserRemoval(anEvent.userRemoved({ reason: 'moved-out-of-scope' }), [pending('NEW_USER', 0)], ctx);
      assert.equal(decision.events[0]?.data.lastError, 'user removed from the source directory (moved-out-of-scope)');
    });
  });
});
