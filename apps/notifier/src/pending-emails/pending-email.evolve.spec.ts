import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anEvent, FIXED_NOW } from '@idm/testing';
import { clearsFlag, evolvePendingEmail } from './pending-email.evolve.js';
import { aPendingEmail } from './pending-email.fixture.js';

const claimed = aPendingEmail({ attempts: 2, lastError: '451 later', claimedTick: 'tick-1', claimedAt: FIXED_NOW, claimToken: 'token-1' });

describe('applying delivery events to a pending email', () => {
  describe('given an email claimed by tick-1', () => {
    it('when EmailSent is applied, then the flag is cleared', () => {
      assert.deepEqual(evolvePendingEmail(claimed, anEvent.emailSent({ tick: 'tick-1', attempt: 3 })), { kind: 'delete' });
    });

    it('when EmailAbandoned is applied, then the flag is cleared', () => {
      assert.deepEqual(evolvePendingEmail(claimed, anEvent.emailAbandoned()), { kind: 'delete' });
    });

    it('when EmailFailed of tick-1 is applied, then attempts and error are recorded and the claim is released', () => {
      assert.deepEqual(evolvePendingEmail(claimed, anEvent.emailFailed({ tick: 'tick-1', attempt: 3, error: '421 busy' })), {
        kind: 'save',
        pending: { ...claimed, attempts: 3, lastError: '421 busy', claimedTick: null, claimedAt: null, claimToken: null },
      });
    });

    it('when an EmailFailed of an older tick is applied, then the current claim is kept', () => {
      assert.deepEqual(evolvePendingEmail(claimed, anEvent.emailFailed({ tick: 'tick-0', attempt: 1, error: 'old' })), {
        kind: 'save',
        pending: { ...claimed, attempts: 2, lastError: 'old' },
      });
    });
  });

  describe('given no pending email', () => {
    it('when any delivery event is applied, then nothing happens (not-pending)', () => {
      for (const event of [anEvent.emailSent(), anEvent.emailFailed(), anEvent.emailAbandoned()]) {
        assert.deepEqual(evolvePendingEmail(undefined, event), { kind: 'ignore', reason: 'not-pending' });
      }
    });
  });
});

describe('which delivery events clear a flag whatever the row holds', () => {
  it('EmailSent and EmailAbandoned do: a shell may apply them as one conditional delete', () => {
    assert.equal(clearsFlag(anEvent.emailSent()), true);
    assert.equal(clearsFlag(anEvent.emailAbandoned()), true);
  });

  it('EmailFailed does not: its change depends on the row (attempts, claim)', () => {
    assert.equal(clearsFlag(anEvent.emailFailed()), false);
  });
});
