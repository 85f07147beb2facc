import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anEvent } from '@idm/testing';
import { DISCARDED_MESSAGE_PREFIX } from './password-cache.decider.js';
import { evolvePasswordCache, type PasswordCacheView, type PasswordEvent } from './password-cache.evolve.js';

const T0 = '2026-03-01T10:00:00.000Z';
const plus = (ms: number): string => new Date(Date.parse(T0) + ms).toISOString();
const policy = { minutes: 60 };

function replay(events: readonly PasswordEvent[], from?: PasswordCacheView): PasswordCacheView | undefined {
  return events.reduce<PasswordCacheView | undefined>((s, e) => evolvePasswordCache(s, e, policy), from);
}

const changed = anEvent.passwordChanged({ changedAt: T0 }, { time: T0 });

describe('replaying the password cache from the log', () => {
  describe('given no entry', () => {
    it('when PasswordChanged is replayed, then the entry is cached with its expiry from the policy', () => {
      assert.deepEqual(replay([changed]), {
        userId: 'u-1001',
        status: 'cached',
        origin: 'source',
        changedAt: T0,
        cachedAt: T0,
        attempts: 0,
        expiresAt: plus(60 * 60_000),
        lastReason: null,
        lastMessage: null,
        unavailableStreak: 0,
        nextRetryAt: null,
        settledAt: null,
      });
    });

    it('when PasswordSynced arrives without a change before it, then nothing happens', () => {
      assert.equal(replay([anEvent.passwordSynced()]), undefined);
    });
  });

  describe('given a cached entry', () => {
    it('when target-unavailable failures are replayed, then attempts, streak and the backoff are rebuilt', () => {
      const s = replay([
        changed,
        anEvent.passwordSyncFailed({ reason: 'target-unavailable', attempt: 1, expiresAt: plus(3_600_000) }, { time: plus(1000) }),
        anEvent.passwordSyncFailed({ reason: 'target-unavailable', attempt: 2, expiresAt: plus(3_600_000) }, { time: plus(7000) }),
      ]);
      assert.equal(s?.attempts, 2);
      assert.equal(s?.unavailableStreak, 2);
      assert.equal(s?.nextRetryAt, plus(7000 + 10_000));
    });

    it('when a policy violation is replayed, then it stays cached without a timer retry', () => {
      const s = replay([
        changed,
        anEvent.passwordSyncFailed({ reason: 'policy-violation', message: 'too short', attempt: 1, expiresAt: plus(3_600_000) }),
      ]);
      assert.equal(s?.status, 'cached');
      assert.equal(s?.lastReason, 'policy-violation');
      assert.equal(s?.nextRetryAt, null);
    });

    it('when PasswordSynced is replayed, then the entry ends (synced, settled at the event time)', () => {
      const s = replay([changed, anEvent.passwordSynced({ attempt: 2 }, { time: plus(5000) })]);
      assert.deepEqual([s?.status, s?.attempts, s?.settledAt, s?.expiresAt], ['synced', 2, plus(5000), null]);
    });

    it('when PasswordExpired is replayed, then the entry ends (expired) and a later UserAdded-driven sync cannot revive it', () => {
      const s = replay([changed, anEvent.passwordExpired({ cachedAt: T0 }, { time: plus(3_600_000) }), anEvent.passwordSynced()]);
      assert.equal(s?.status, 'expired');
      assert.equal(s?.settledAt, plus(3_600_000));
    });

    it('when the failure reports a discarded secret, then the entry ends (discarded)', () => {
      const s = replay([
        changed,
        anEvent.passwordSyncFailed(
          { reason: 'target-error', message: `${DISCARDED_MESSAGE_PREFIX}bad key`, attempt: 1, expiresAt: plus(1) },
          { time: plus(1) },
        ),
      ]);
      assert.equal(s?.status, 'discarded');
    });

    it('when an older PasswordChanged is replayed, then the newer one stays', () => {
      const newer = anEvent.passwordChanged({ changedAt: plus(1000) });
      const s = replay([newer, changed]);
      assert.equal(s?.changedAt, plus(1000));
    });
  });
});
