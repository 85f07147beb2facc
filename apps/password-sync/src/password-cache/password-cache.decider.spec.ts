import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventTypes } from '@idm/contracts';
import {
  decide,
  emptyState,
  type CachedPassword,
  type DecideContext,
  type PasswordCacheDecision,
  type PasswordCacheInput,
  type PasswordCacheState,
} from './password-cache.decider.js';
import type { SealedSecret } from './sealed-secret.js';

const U = 'u1001';
const T0 = '2026-03-01T10:00:00.000Z';
const at = (iso: string): Date => new Date(iso);
const plus = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();
const MIN = 60_000;
const policy60: DecideContext['policy'] = { minutes: 60 };
const sealedA: SealedSecret = { ciphertext: Buffer.from('aa'), nonce: Buffer.alloc(12, 1), tag: Buffer.alloc(16, 2), keyId: 'k1' };
const sealedB: SealedSecret = { ciphertext: Buffer.from('bb'), nonce: Buffer.alloc(12, 3), tag: Buffer.alloc(16, 4), keyId: 'k1' };

function cached(overrides: Partial<CachedPassword> = {}): CachedPassword {
  return {
    status: 'cached',
    userId: U,
    origin: 'source',
    sealed: sealedA,
    changedAt: T0,
    cachedAt: T0,
    attempts: 1,
    expiresAt: plus(T0, 60 * MIN),
    lastReason: 'user-not-found',
    lastMessage: 'no entry uid=u1001',
    unavailableStreak: 0,
    nextRetryAt: null,
    ...overrides,
  };
}

/** User U's password, synced at `syncedAt` (default T0) on its first attempt. */
function synced(syncedAt = T0): PasswordCacheState {
  return {
    status: 'synced',
    userId: U,
    origin: 'source',
    changedAt: T0,
    cachedAt: T0,
    attempts: 1,
    syncedAt,
  };
}

/** Given a state, when an input arrives at `now`, then this decision. */
function given(state: PasswordCacheState) {
  return {
    when(input: PasswordCacheInput, now: string = T0, policy: DecideContext['policy'] = policy60) {
      const decision = decide(input, state, { now: at(now), policy });
      return {
        then(check: (d: PasswordCacheDecision) => void): void {
          check(decision);
        },
        thenIgnored(reason: string): void {
          assert.deepEqual(decision.outputs, [{ kind: 'Ignore', reason }]);
          assert.equal(decision.state, state, 'an ignore leaves the state untouched');
        },
      };
    },
  };
}

const overdue = (cachedBefore: string): PasswordCacheInput => ({ type: 'AttemptOverdue', userId: U, cachedBefore });
const change = (changedAt = T0, sealed = sealedA): PasswordCacheInput => ({
  type: 'ChangePassword',
  userId: U,
  origin: 'source',
  sealed,
  changedAt,
});
const userAdded: PasswordCacheInput = { type: 'UserAdded', userId: U };
const userModified: PasswordCacheInput = { type: 'UserModified', userId: U };
const result = (r: Extract<PasswordCacheInput, { type: 'AttemptResult' }>['result'], changedAt = T0): PasswordCacheInput => ({
  type: 'AttemptResult',
  userId: U,
  changedAt,
  target: 'ldap://dir:389',
  result: r,
});
const expiryDue: PasswordCacheInput = { type: 'ExpiryDue', userId: U };
const retryDue: PasswordCacheInput = { type: 'RetryDue', userId: U };
const userRemoved: PasswordCacheInput = { type: 'UserRemoved', userId: U };

describe('password cache decider', () => {
  describe('given nothing cached', () => {
    const empty = emptyState(U);

    it('when a password changes, then PasswordChanged is appended, it is cached with an expiry, and applied once', () => {
      given(empty)
        .when(change())
        .then(({ outputs, state }) => {
          assert.deepEqual(outputs, [
            { kind: 'Append', event: { type: EventTypes.PasswordChanged, data: { userId: U, origin: 'source', changedAt: T0 } } },
            { kind: 'ApplyPassword', userId: U, changedAt: T0 },
          ]);
          assert.equal(state.status, 'cached');
          const s = state as CachedPassword;
          assert.equal(s.sealed, sealedA);
          assert.equal(s.attempts, 0);
          assert.equal(s.expiresAt, plus(T0, 60 * MIN));
        });
    });

    it('when a password changes under a never-expiring policy, then it is cached with no expiry', () => {
      given(empty)
        .when(change(), T0, { minutes: null })
        .then(({ state }) => assert.equal((state as CachedPassword).expiresAt, null));
    });

    it('when the PasswordChanged event carries no secret', () => {
      given(empty)
        .when(change())
        .then(({ outputs }) => assert.equal(JSON.stringify(outputs[0]).includes('ciphertext'), false));
    });

    for (const input of [userAdded, userModified, userRemoved, expiryDue, retryDue, result({ status: 'applied' })]) {
      it(`when ${input.type} arrives, then nothing happens (nothing-cached)`, () => {
        given(empty).when(input).thenIgnored('nothing-cached');
      });
    }
  });

  describe('given a password cached after a failure', () => {
    for (const reason of ['user-not-found', 'policy-violation', 'target-error'] as const) {
      describe(`(${reason})`, () => {
        const state = cached({ lastReason: reason, lastMessage: 'why' });

        it('when UserAdded arrives, then the cached password is applied again', () => {
          given(state)
            .when(userAdded, plus(T0, 5 * MIN))
            .then(({ outputs, state: next }) => {
              assert.deepEqual(outputs, [{ kind: 'ApplyPassword', userId: U, changedAt: T0 }]);
              assert.equal(next, state);
            });
        });

        it('when UserModified arrives, then the cached password is applied again', () => {
          given(state)
            .when(userModified, plus(T0, 5 * MIN))
            .then(({ outputs }) => assert.deepEqual(outputs, [{ kind: 'ApplyPassword', userId: U, changedAt: T0 }]));
        });

        it('when the retry sweep runs, then nothing happens: only an outage is retried on a timer', () => {
          given(state)
            .when(retryDue, plus(T0, 30 * MIN))
            .thenIgnored('not-retryable');
        });

        it('when the sweep looks for never-attempted passwords, then nothing happens: a recorded failure waits for Add/Modify', () => {
          given(state)
            .when(overdue(plus(T0, 10 * MIN)), plus(T0, 10 * MIN))
            .thenIgnored('already-attempted');
        });
      });
    }

    it('when the target applies it, then PasswordSynced is appended and the secret destroyed', () => {
      given(cached({ attempts: 2 }))
        .when(result({ status: 'applied' }), plus(T0, 7 * MIN))
        .then(({ outputs, state }) => {
          assert.deepEqual(outputs, [
            { kind: 'Append', event: { type: EventTypes.PasswordSynced, data: { userId: U, target: 'ldap://dir:389', attempt: 3 } } },
            { kind: 'DestroySecret', userId: U },
          ]);
          assert.equal(state.status, 'synced');
          assert.equal('sealed' in state, false);
        });
    });

    it('when the target rejects it by policy, then PasswordSyncFailed carries the server reason, the attempt and expiresAt', () => {
      given(cached({ attempts: 1 }))
        .when(result({ status: 'policy-violation', message: 'Password fails quality checking policy' }), plus(T0, 2 * MIN))
        .then(({ outputs, state }) => {
          assert.deepEqual(outputs, [
            {
              kind: 'Append',
              event: {
                type: EventTypes.PasswordSyncFailed,
                data: {
                  userId: U,
                  reason: 'policy-violation',
                  message: 'Password fails quality checking policy',
                  attempt: 2,
                  expiresAt: plus(T0, 60 * MIN),
                },
              },
            },
          ]);
          const s = state as CachedPassword;
          assert.equal(s.status, 'cached');
          assert.equal(s.sealed, sealedA);
          assert.equal(s.attempts, 2);
          assert.equal(s.nextRetryAt, null);
        });
    });

    it('when the first attempt finds no user, then the password stays cached with no timer retry', () => {
      given(cached({ attempts: 0, lastReason: null, lastMessage: null }))
        .when(result({ status: 'user-not-found', message: 'no entry' }))
        .then(({ outputs, state }) => {
          assert.equal(outputs.length, 1);
          assert.equal((state as CachedPassword).lastReason, 'user-not-found');
          assert.equal((state as CachedPassword).nextRetryAt, null);
        });
    });

    it('when a newer password arrives, then it replaces the cached one and resets the attempts', () => {
      const later = plus(T0, 3 * MIN);
      given(cached({ attempts: 4 }))
        .when(change(later, sealedB), later)
        .then(({ outputs, state }) => {
          assert.equal(outputs[1]?.kind, 'ApplyPassword');
          const s = state as CachedPassword;
          assert.equal(s.sealed, sealedB);
          assert.equal(s.changedAt, later);
          assert.equal(s.attempts, 0);
          assert.equal(s.expiresAt, plus(later, 60 * MIN));
        });
    });

    it('when an older change arrives late, then nothing happens (stale-change)', () => {
      given(cached())
        .when(change(plus(T0, -MIN), sealedB))
        .thenIgnored('stale-change');
    });

    it('when the result of an attempt on an older password arrives, then nothing happens (stale-attempt)', () => {
      given(cached({ changedAt: plus(T0, MIN) }))
        .when(result({ status: 'applied' }, T0))
        .thenIgnored('stale-attempt');
    });

    it('when the expiry sweep runs before expiresAt, then nothing happens (not-due)', () => {
      given(cached())
        .when(expiryDue, plus(T0, 59 * MIN))
        .thenIgnored('not-due');
    });

    it('when the expiry sweep runs at expiresAt, then PasswordExpired is appended and the secret destroyed', () => {
      given(cached())
        .when(expiryDue, plus(T0, 60 * MIN))
        .then(({ outputs, state }) => {
          assert.deepEqual(outputs, [
            { kind: 'Append', event: { type: EventTypes.PasswordExpired, data: { userId: U, cachedAt: T0 } } },
            { kind: 'DestroySecret', userId: U },
          ]);
          assert.equal(state.status, 'expired');
          assert.equal('sealed' in state, false);
        });
    });

    it('when UserAdded arrives after expiresAt but before the sweep, then it expires instead of applying', () => {
      given(cached())
        .when(userAdded, plus(T0, 61 * MIN))
        .then(({ outputs, state }) => {
          assert.deepEqual(
            outputs.map((o) => o.kind),
            ['Append', 'DestroySecret'],
          );
          assert.equal(state.status, 'expired');
        });
    });

    it('when UserRemoved arrives, then PasswordExpired(user-removed) is appended and the secret destroyed at once', () => {
      given(cached({ expiresAt: plus(T0, 60 * MIN) }))
        .when(userRemoved, plus(T0, 5 * MIN))
        .then(({ outputs, state }) => {
          assert.deepEqual(outputs, [
            { kind: 'Append', event: { type: EventTypes.PasswordExpired, data: { userId: U, cachedAt: T0, reason: 'user-removed' } } },
            { kind: 'DestroySecret', userId: U },
          ]);
          assert.equal(state.status, 'expired');
          assert.equal('sealed' in state, false);
        });
    });

    it('when UserRemoved arrives for a never-expiring password, then it is destroyed all the same', () => {
      given(cached({ expiresAt: null }))
        .when(userRemoved)
        .then(({ outputs }) =>
          assert.deepEqual(
            outputs.map((o) => o.kind),
            ['Append', 'DestroySecret'],
          ),
        );
    });

    it('when the policy never expires, then the expiry sweep leaves it (never-expires)', () => {
      given(cached({ expiresAt: null }))
        .when(expiryDue, plus(T0, 525_600 * MIN))
        .thenIgnored('never-expires');
    });

    it('when the secret cannot be opened, then PasswordSyncFailed (target-error) is appended and it is discarded', () => {
      given(cached({ attempts: 1 }))
        .when({ type: 'SecretUnreadable', userId: U, changedAt: T0, why: 'sealed with key k0' }, plus(T0, MIN))
        .then(({ outputs, state }) => {
          const first = outputs[0];
          assert.equal(first?.kind, 'Append');
          assert.equal(
            first.kind === 'Append' && first.event.type === EventTypes.PasswordSyncFailed && first.event.data.reason,
            'target-error',
          );
          assert.deepEqual(outputs[1], { kind: 'DestroySecret', userId: U });
          assert.equal(state.status, 'discarded');
        });
    });
  });

  describe('given a password cached after the target was unavailable', () => {
    it('when the target is unavailable again, then the retry backs off: 5 s, 10 s, 20 s … capped at 5 minutes', () => {
      let state: PasswordCacheState = cached({ attempts: 0, lastReason: null });
      const delays: number[] = [];
      let now = T0;
      for (let i = 0; i < 9; i++) {
        const d = decide(result({ status: 'target-unavailable', message: 'connect ECONNREFUSED' }), state, {
          now: at(now),
          policy: { minutes: null },
        });
        state = d.state;
        const s = state as CachedPassword;
        delays.push(Date.parse(s.nextRetryAt!) - Date.parse(now));
        now = s.nextRetryAt!;
      }
      assert.deepEqual(delays, [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
      assert.equal((state as CachedPassword).attempts, 9);
    });

    const waiting = cached({ lastReason: 'target-unavailable', unavailableStreak: 1, nextRetryAt: plus(T0, 5_000) });

    it('when the retry sweep runs before nextRetryAt, then nothing happens (not-due)', () => {
      given(waiting).when(retryDue, plus(T0, 4_999)).thenIgnored('not-due');
    });

    it('when the retry sweep runs at nextRetryAt, then the password is applied again', () => {
      given(waiting)
        .when(retryDue, plus(T0, 5_000))
        .then(({ outputs }) => assert.deepEqual(outputs, [{ kind: 'ApplyPassword', userId: U, changedAt: T0 }]));
    });

    it('when the retry sweep runs after expiresAt, then it expires rather than retrying', () => {
      given(waiting)
        .when(retryDue, plus(T0, 60 * MIN))
        .then(({ state }) => assert.equal(state.status, 'expired'));
    });

    it('when a different failure follows, then the backoff streak resets and the timer stops', () => {
      given(waiting)
        .when(result({ status: 'policy-violation', message: 'too short' }), plus(T0, 5_000))
        .then(({ state }) => {
          const s = state as CachedPassword;
          assert.equal(s.unavailableStreak, 0);
          assert.equal(s.nextRetryAt, null);
        });
    });

    it('when UserModified arrives, then it is applied without waiting for the timer', () => {
      given(waiting)
        .when(userModified, plus(T0, 1_000))
        .then(({ outputs }) => assert.deepEqual(outputs, [{ kind: 'ApplyPassword', userId: U, changedAt: T0 }]));
    });
  });

  describe('given a synced password', () => {
    for (const input of [userAdded, userModified, userRemoved, expiryDue, retryDue, result({ status: 'applied' })]) {
      it(`when ${input.type} arrives, then nothing happens (nothing-cached)`, () => {
        given(synced())
          .when(input, plus(T0, 90 * MIN))
          .thenIgnored('nothing-cached');
      });
    }

    it('when a newer password arrives, then it is cached and applied', () => {
      given(synced())
        .when(change(plus(T0, MIN)), plus(T0, MIN))
        .then(({ state }) => assert.equal(state.status, 'cached'));
    });

    it('when an older change arrives late, then nothing happens (stale-change)', () => {
      given(synced())
        .when(change(plus(T0, -MIN)))
        .thenIgnored('stale-change');
    });
  });

  describe('given an expired password', () => {
    const expired: PasswordCacheState = {
      status: 'expired',
      userId: U,
      origin: 'source',
      changedAt: T0,
      cachedAt: T0,
      attempts: 3,
      expiredAt: plus(T0, 60 * MIN),
    };

    it('when UserAdded finally arrives, then there is nothing to apply', () => {
      given(expired)
        .when(userAdded, plus(T0, 2 * 60 * MIN))
        .thenIgnored('nothing-cached');
    });

    it('when the expiry sweep runs again, then nothing happens', () => {
      given(expired)
        .when(expiryDue, plus(T0, 2 * 60 * MIN))
        .thenIgnored('nothing-cached');
    });

    it('when the user changes the password again, then the new one is cached and applied', () => {
      given(expired)
        .when(change(plus(T0, 2 * 60 * MIN), sealedB), plus(T0, 2 * 60 * MIN))
        .then(({ outputs, state }) => {
          assert.equal(state.status, 'cached');
          assert.deepEqual(
            outputs.map((o) => o.kind),
            ['Append', 'ApplyPassword'],
          );
        });
    });
  });
});

describe('an accepted password that was never attempted (the process died between accepting and attempting)', () => {
  const accepted = cached({ attempts: 0, lastReason: null, lastMessage: null });

  it('when the sweep runs after the grace period, then it is attempted without waiting for a user event', () => {
    given(accepted)
      .when(overdue(plus(T0, 1)), plus(T0, 30_001))
      .then(({ outputs, state }) => {
        assert.deepEqual(outputs, [{ kind: 'ApplyPassword', userId: U, changedAt: T0 }]);
        assert.equal(state, accepted);
      });
  });

  it('when the sweep runs within the grace period, then nothing happens (its first attempt may still be running)', () => {
    given(accepted)
      .when(overdue(plus(T0, -1)), plus(T0, 29_999))
      .thenIgnored('not-due');
  });

  it('when its expiry has passed, then it expires instead of being applied late', () => {
    given(accepted)
      .when(overdue(plus(T0, 61 * MIN)), plus(T0, 61 * MIN))
      .then(({ outputs }) =>
        assert.deepEqual(outputs[0], { kind: 'Append', event: { type: EventTypes.PasswordExpired, data: { userId: U, cachedAt: T0 } } }),
      );
  });

  it('when it was synced meanwhile, then nothing happens', () => {
    given(synced(plus(T0, 1000)))
      .when(overdue(plus(T0, MIN)), plus(T0, MIN))
      .thenIgnored('nothing-cached');
  });

  it('when the attempt is then recorded, then it counts as attempt 1 and the sweep leaves it alone', () => {
    given(accepted)
      .when(result({ status: 'policy-violation', message: 'too short' }), plus(T0, MIN))
      .then(({ state }) => {
        assert.equal(state.status === 'cached' && state.attempts, 1);
        given(state)
          .when(overdue(plus(T0, 2 * MIN)), plus(T0, 2 * MIN))
          .thenIgnored('already-attempted');
      });
  });
});
