import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anEvent } from '@idm/testing';
import { evolveQueuedEmail } from './email-queued.evolve.js';
import { aPendingEmail } from './pending-email.fixture.js';

describe('rebuilding a flag from EmailQueued', () => {
  describe('given no pending email of that type', () => {
    it('when EmailQueued is applied, then the flag is raised with the event id, time and the cause context', () => {
      const queued = anEvent.emailQueued({ emailType: 'PASSWORD_SYNC_FAILED' }, { id: 'q-9' });
      assert.deepEqual(evolveQueuedEmail(undefined, queued, { syncFailureReason: 'policy-violation' }), {
        kind: 'save',
        pending: aPendingEmail({
          emailType: 'PASSWORD_SYNC_FAILED',
          queuedEventId: 'q-9',
          context: { syncFailureReason: 'policy-violation' },
        }),
      });
    });
  });

  describe('given the type is already pending', () => {
    it('when EmailQueued is applied, then nothing happens (already-pending)', () => {
      const pending = aPendingEmail({ attempts: 1, lastError: '451' });
      assert.deepEqual(evolveQueuedEmail(pending, anEvent.emailQueued(), {}), { kind: 'ignore', reason: 'already-pending' });
    });
  });
});
