import { EventTypes, type EventDataMap, type PasswordExpiryReason, type PasswordSyncFailureReason } from '@idm/contracts';
import type { ApplyResult } from '../targets/password-target.js';
import { expiresAtFor, type ExpirationPolicy } from '../expiry/expiration-policy.js';
import { retryDelayMs } from '../expiry/retry-backoff.js';
import type { SealedSecret } from './sealed-secret.js';

/** Where a password change came from. */
export type PasswordOrigin = EventDataMap[typeof EventTypes.PasswordChanged]['origin'];

interface Known {
  readonly userId: string;
  readonly origin: PasswordOrigin;
  /** When the password was changed (ISO); the newest change wins. */
  readonly changedAt: string;
  /** When this service cached it (ISO); expiry counts from here. */
  readonly cachedAt: string;
  /** Attempts made for this password. */
  readonly attempts: number;
}

/** A password waiting to be applied, sealed. */
export interface CachedPassword extends Known {
  readonly status: 'cached';
  readonly sealed: SealedSecret;
  /** ISO; null = never. */
  readonly expiresAt: string | null;
  readonly lastReason: PasswordSyncFailureReason | null;
  readonly lastMessage: string | null;
  /** Consecutive `target-unavailable` answers; drives the backoff. */
  readonly unavailableStreak: number;
  /** ISO; set only after `target-unavailable`. */
  readonly nextRetryAt: string | null;
}

/** What one user's row can be. Only `cached` holds a secret. */
export type PasswordCacheState =
  | { readonly status: 'empty'; readonly userId: string }
  | CachedPassword
  | (Known & { readonly status: 'synced'; readonly syncedAt: string })
  | (Known & { readonly status: 'expired'; readonly expiredAt: string })
  | (Known & { readonly status: 'discarded'; readonly discardedAt: string });

/** A password change command, already sealed by the shell. */
export interface ChangePassword {
  readonly type: 'ChangePassword';
  readonly userId: string;
  readonly origin: PasswordOrigin;
  readonly sealed: SealedSecret;
  readonly changedAt: string;
}

/** `UserAdded` / `UserModified` for the user: the moment to retry a cached password. */
export interface UserChanged {
  readonly type: 'UserAdded' | 'UserModified';
  readonly userId: string;
}

/** `UserRemoved`: the account left the source directory; a cached password has nowhere to go. */
export interface UserRemoved {
  readonly type: 'UserRemoved';
  readonly userId: string;
}

/** The target's answer to an `ApplyPassword` for the password changed at `changedAt`. */
export interface AttemptResult {
  readonly type: 'AttemptResult';
  readonly userId: string;
  readonly changedAt: string;
  readonly target: string;
  readonly result: ApplyResult;
}

/** The sweeper asks whether the user's password has expired. */
export interface ExpiryDue {
  readonly type: 'ExpiryDue';
  readonly userId: string;
}

/** The sweeper asks whether a `target-unavailable` password is due for a retry. */
export interface RetryDue {
  readonly type: 'RetryDue';
  readonly userId: string;
}

/**
 * The sweeper asks whether a password that was accepted but never attempted (or whose attempt's
 * outcome was never recorded: the process died in between) should be attempted now. Passwords
 * cached at or before `cachedBefore` count: the shell sets it far enough back that a first
 * attempt still running elsewhere has finished or timed out.
 */
export interface AttemptOverdue {
  readonly type: 'AttemptOverdue';
  readonly userId: string;
  /** ISO. */
  readonly cachedBefore: string;
}

/** The shell could not open the sealed secret (key rotated, row tampered with); it can never be applied. */
export interface SecretUnreadable {
  readonly type: 'SecretUnreadable';
  readonly userId: string;
  readonly changedAt: string;
  readonly why: string;
}

/** Everything the password cache decides on. */
export type PasswordCacheInput =
  ChangePassword | UserChanged | UserRemoved | AttemptResult | ExpiryDue | RetryDue | AttemptOverdue | SecretUnreadable;

/** Why an input changed nothing. */
export type IgnoreReason =
  'nothing-cached' | 'stale-change' | 'stale-attempt' | 'not-due' | 'never-expires' | 'not-retryable' | 'already-attempted';

type PasswordEventType =
  | typeof EventTypes.PasswordChanged
  | typeof EventTypes.PasswordSynced
  | typeof EventTypes.PasswordSyncFailed
  | typeof EventTypes.PasswordExpired;

/** An event to append, before the shell stamps the envelope. */
export type PendingPasswordEvent = { [T in PasswordEventType]: { readonly type: T; readonly data: EventDataMap[T] } }[PasswordEventType];

/** One output of a decision. */
export type PasswordCacheOutput =
  | { readonly kind: 'Append'; readonly event: PendingPasswordEvent }
  /** Open the sealed secret and hand it to the target, then feed back an {@link AttemptResult}. */
  | { readonly kind: 'ApplyPassword'; readonly userId: string; readonly changedAt: string }
  /** Overwrite the row's ciphertext; the new state no longer holds it. */
  | { readonly kind: 'DestroySecret'; readonly userId: string }
  | { readonly kind: 'Ignore'; readonly reason: IgnoreReason };

/** Outputs plus the state to save. An ignore leaves the state as it was. */
export interface PasswordCacheDecision {
  readonly outputs: readonly PasswordCacheOutput[];
  readonly state: PasswordCacheState;
}

/** Time and settings, passed in: the decider never reads a clock. */
export interface DecideContext {
  readonly now: Date;
  readonly policy: Pick<ExpirationPolicy, 'minutes'>;
}

/** The initial state of a user nobody has told us about. */
export function emptyState(userId: string): PasswordCacheState {
  return { status: 'empty', userId };
}

/** How a `PasswordSyncFailed` that discarded an unreadable secret begins; replay tells a discard by it. */
export const DISCARDED_MESSAGE_PREFIX = 'the cached password cannot be opened and was discarded: ';

const ignore = (state: PasswordCacheState, reason: IgnoreReason): PasswordCacheDecision => ({
  outputs: [{ kind: 'Ignore', reason }],
  state,
});

const isDue = (at: string, now: Date): boolean => Date.parse(at) <= now.getTime();

/** The fields that outlive the secret; everything else (the sealed password above all) is dropped. */
function knownOf(state: CachedPassword): Known {
  return { userId: state.userId, origin: state.origin, changedAt: state.changedAt, cachedAt: state.cachedAt, attempts: state.attempts };
}

function expire(state: CachedPassword, now: Date, reason?: PasswordExpiryReason): PasswordCacheDecision {
  const known = knownOf(state);
  const data = reason ? { userId: state.userId, cachedAt: state.cachedAt, reason } : { userId: state.userId, cachedAt: state.cachedAt };
  return {
    outputs: [
      { kind: 'Append', event: { type: EventTypes.PasswordExpired, data } },
      { kind: 'DestroySecret', userId: state.userId },
    ],
    state: { ...known, status: 'expired', expiredAt: now.toISOString() },
  };
}

function changePassword(cmd: ChangePassword, state: PasswordCacheState, ctx: DecideContext): PasswordCacheDecision {
  // Newest change wins; an older change that arrives late (another replica, a slow request) loses.
  if (state.status !== 'empty' && Date.parse(cmd.changedAt) < Date.parse(state.changedAt)) return ignore(state, 'stale-change');
  const expiresAt = expiresAtFor(ctx.now, ctx.policy);
  const next: CachedPassword = {
    status: 'cached',
    userId: cmd.userId,
    origin: cmd.origin,
    sealed: cmd.sealed,
    changedAt: cmd.changedAt,
    cachedAt: ctx.now.toISOString(),
    attempts: 0,
    expiresAt: expiresAt?.toISOString() ?? null,
    lastReason: null,
    lastMessage: null,
    unavailableStreak: 0,
    nextRetryAt: null,
  };
  return {
    outputs: [
      {
        kind: 'Append',
        event: { type: EventTypes.PasswordChanged, data: { userId: cmd.userId, origin: cmd.origin, changedAt: cmd.changedAt } },
      },
      { kind: 'ApplyPassword', userId: cmd.userId, changedAt: cmd.changedAt },
    ],
    state: next,
  };
}

function userChanged(state: PasswordCacheState, ctx: DecideContext): PasswordCacheDecision {
  if (state.status !== 'cached') return ignore(state, 'nothing-cached');
  // An expired password must not be applied just because the sweep has not run yet.
  if (state.expiresAt !== null && isDue(state.expiresAt, ctx.now)) return expire(state, ctx.now);
  return { outputs: [{ kind: 'ApplyPassword', userId: state.userId, changedAt: state.changedAt }], state };
}

/** The secret is destroyed at once: the account it was for is gone (a re-created account gets a new password). */
function userRemoved(state: PasswordCacheState, ctx: DecideContext): PasswordCacheDecision {
  if (state.status !== 'cached') return ignore(state, 'nothing-cached');
  return expire(state, ctx.now, 'user-removed');
}

function attemptResult(input: AttemptResult, state: PasswordCacheState, ctx: DecideContext): PasswordCacheDecision {
  if (state.status !== 'cached') return ignore(state, 'nothing-cached');
  if (input.changedAt !== state.changedAt) return ignore(state, 'stale-attempt');
  const attempt = state.attempts + 1;
  const { result } = input;
  if (result.status === 'applied') {
    const known = knownOf(state);
    return {
      outputs: [
        { kind: 'Append', event: { type: EventTypes.PasswordSynced, data: { userId: state.userId, target: input.target, attempt } } },
        { kind: 'DestroySecret', userId: state.userId },
      ],
      state: { ...known, attempts: attempt, status: 'synced', syncedAt: ctx.now.toISOString() },
    };
  }
  const unavailable = result.status === 'target-unavailable';
  const unavailableStreak = unavailable ? state.unavailableStreak + 1 : 0;
  return {
    outputs: [
      {
        kind: 'Append',
        event: {
          type: EventTypes.PasswordSyncFailed,
          data: { userId: state.userId, reason: result.status, message: result.message, attempt, expiresAt: state.expiresAt },
        },
      },
    ],
    state: {
      ...state,
      attempts: attempt,
      lastReason: result.status,
      lastMessage: result.message,
      unavailableStreak,
      // Only an outage is retried on a timer; everything else waits for the next UserAdded/UserModified.
      nextRetryAt: unavailable ? new Date(ctx.now.getTime() + retryDelayMs(unavailableStreak)).toISOString() : null,
    },
  };
}

function expiryDue(state: PasswordCacheState, ctx: DecideContext): PasswordCacheDecision {
  if (state.status !== 'cached') return ignore(state, 'nothing-cached');
  if (state.expiresAt === null) return ignore(state, 'never-expires');
  if (!isDue(state.expiresAt, ctx.now)) return ignore(state, 'not-due');
  return expire(state, ctx.now);
}

function retryDue(state: PasswordCacheState, ctx: DecideContext): PasswordCacheDecision {
  if (state.status !== 'cached') return ignore(state, 'nothing-cached');
  if (state.expiresAt !== null && isDue(state.expiresAt, ctx.now)) return expire(state, ctx.now);
  if (state.lastReason !== 'target-unavailable' || state.nextRetryAt === null) return ignore(state, 'not-retryable');
  if (!isDue(state.nextRetryAt, ctx.now)) return ignore(state, 'not-due');
  return { outputs: [{ kind: 'ApplyPassword', userId: state.userId, changedAt: state.changedAt }], state };
}

function attemptOverdue(input: AttemptOverdue, state: PasswordCacheState, ctx: DecideContext): PasswordCacheDecision {
  if (state.status !== 'cached') return ignore(state, 'nothing-cached');
  if (state.expiresAt !== null && isDue(state.expiresAt, ctx.now)) return expire(state, ctx.now);
  // A recorded failure follows the seed's rule (wait for Add/Modify; outages have their own timer).
  if (state.attempts > 0 || state.lastReason !== null) return ignore(state, 'already-attempted');
  if (Date.parse(state.cachedAt) > Date.parse(input.cachedBefore)) return ignore(state, 'not-due');
  return { outputs: [{ kind: 'ApplyPassword', userId: state.userId, changedAt: state.changedAt }], state };
}

function secretUnreadable(input: SecretUnreadable, state: PasswordCacheState, ctx: DecideContext): PasswordCacheDecision {
  if (state.status !== 'cached') return ignore(state, 'nothing-cached');
  if (input.changedAt !== state.changedAt) return ignore(state, 'stale-attempt');
  const known = knownOf(state);
  const attempt = state.attempts + 1;
  return {
    outputs: [
      {
        kind: 'Append',
        event: {
          type: EventTypes.PasswordSyncFailed,
          data: {
            userId: state.userId,
            reason: 'target-error',
            message: `${DISCARDED_MESSAGE_PREFIX}${input.why}`,
            attempt,
            // Gone now: nothing stays cached.
            expiresAt: ctx.now.toISOString(),
          },
        },
      },
      { kind: 'DestroySecret', userId: state.userId },
    ],
    state: { ...known, attempts: attempt, status: 'discarded', discardedAt: ctx.now.toISOString() },
  };
}

/**
 * The password cache's rules, pure: given an input, the user's current state and the time,
 * returns the events to append, the side effects to run, and the state to save.
 */
export function decide(input: PasswordCacheInput, state: PasswordCacheState, ctx: DecideContext): PasswordCacheDecision {
  switch (input.type) {
    case 'ChangePassword':
      return changePassword(input, state, ctx);
    case 'UserAdded':
    case 'UserModified':
      return userChanged(state, ctx);
    case 'UserRemoved':
      return userRemoved(state, ctx);
    case 'AttemptResult':
      return attemptResult(input, state, ctx);
    case 'ExpiryDue':
      return expiryDue(state, ctx);
    case 'RetryDue':
      return retryDue(state, ctx);
    case 'AttemptOverdue':
      return attemptOverdue(input, state, ctx);
    case 'SecretUnreadable':
      return secretUnreadable(input, state, ctx);
  }
}
