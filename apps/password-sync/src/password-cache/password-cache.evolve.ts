import type { IdmEventOf, PasswordSyncFailureReason } from '@idm/contracts';
import { expiresAtFor, type ExpirationPolicy } from '../expiry/expiration-policy.js';
import { retryDelayMs } from '../expiry/retry-backoff.js';
import { DISCARDED_MESSAGE_PREFIX, type PasswordOrigin } from './password-cache.decider.js';

/**
 * One user's `password_cache` row as the log can tell it: every column but the sealed secret,
 * which the log never held. Times are ISO strings.
 */
export interface PasswordCacheView {
  readonly userId: string;
  readonly status: 'cached' | 'synced' | 'expired' | 'discarded';
  readonly origin: PasswordOrigin;
  readonly changedAt: string;
  readonly cachedAt: string;
  readonly attempts: number;
  readonly expiresAt: string | null;
  readonly lastReason: PasswordSyncFailureReason | null;
  readonly lastMessage: string | null;
  readonly unavailableStreak: number;
  readonly nextRetryAt: string | null;
  /** When the row left `cached`; null while cached. */
  readonly settledAt: string | null;
}

/** The password events password-sync appends; replay rebuilds its table from them alone. */
export type PasswordEvent =
  | IdmEventOf<'idm.password.changed'>
  | IdmEventOf<'idm.password.synced'>
  | IdmEventOf<'idm.password.sync-failed'>
  | IdmEventOf<'idm.password.expired'>;

/** True for the events {@link evolvePasswordCache} applies. */
export function isPasswordEvent(event: { readonly type: string }): event is PasswordEvent {
  return (
    event.type === 'idm.password.changed' ||
    event.type === 'idm.password.synced' ||
    event.type === 'idm.password.sync-failed' ||
    event.type === 'idm.password.expired'
  );
}

function settle(
  state: PasswordCacheView,
  status: 'synced' | 'expired' | 'discarded',
  at: string,
  attempts = state.attempts,
): PasswordCacheView {
  return {
    ...state,
    status,
    attempts,
    expiresAt: null,
    lastReason: null,
    lastMessage: null,
    unavailableStreak: 0,
    nextRetryAt: null,
    settledAt: at,
  };
}

/**
 * Applies one password event from the log to a user's row, mirroring what the decider did when it
 * appended the event (the event's time is the decision's time). Pure: no target is contacted, no
 * event appended, no secret touched. `PasswordSynced` and `PasswordExpired` end a cache entry, as
 * does a `PasswordSyncFailed` that reports a discarded secret; an event for an entry no longer
 * cached, or an older `PasswordChanged`, changes nothing (returns `state`). `policy` gives the
 * expiry of a `PasswordChanged` (the event does not carry it; a later `PasswordSyncFailed` does).
 */
export function evolvePasswordCache(
  state: PasswordCacheView | undefined,
  event: PasswordEvent,
  policy: Pick<ExpirationPolicy, 'minutes'>,
): PasswordCacheView | undefined {
  switch (event.type) {
    case 'idm.password.changed': {
      const { userId, origin, changedAt } = event.data;
      if (state && Date.parse(changedAt) < Date.parse(state.changedAt)) return state;
      return {
        userId,
        status: 'cached',
        origin,
        changedAt,
        // Live, the change is cached at the instant it is stamped with.
        cachedAt: changedAt,
        attempts: 0,
        expiresAt: expiresAtFor(new Date(changedAt), policy)?.toISOString() ?? null,
        lastReason: null,
        lastMessage: null,
        unavailableStreak: 0,
        nextRetryAt: null,
        settledAt: null,
      };
    }
    case 'idm.password.synced':
      return state?.status === 'cached' ? settle(state, 'synced', event.time, event.data.attempt) : state;
    case 'idm.password.expired':
      return state?.status === 'cached' ? settle(state, 'expired', event.time) : state;
    case 'idm.password.sync-failed': {
      if (state?.status !== 'cached') return state;
      const d = event.data;
      if (d.reason === 'target-error' && d.message.startsWith(DISCARDED_MESSAGE_PREFIX))
        return settle(state, 'discarded', event.time, d.attempt);
      const unavailable = d.reason === 'target-unavailable';
      const unavailableStreak = unavailable ? state.unavailableStreak + 1 : 0;
      return {
        ...state,
        attempts: d.attempt,
        expiresAt: d.expiresAt,
        lastReason: d.reason,
        lastMessage: d.message,
        unavailableStreak,
        nextRetryAt: unavailable ? new Date(Date.parse(event.time) + retryDelayMs(unavailableStreak)).toISOString() : null,
      };
    }
  }
}
