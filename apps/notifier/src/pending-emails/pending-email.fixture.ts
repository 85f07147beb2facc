import { FIXED_NOW } from '@idm/testing';
import type { PendingEmail } from './pending-email.js';

/**
 * A pending email for specs: user `u-1001`'s `NEW_USER` flag, raised at `FIXED_NOW` by EmailQueued
 * `q-1`, no attempt yet, unclaimed, no context. `overrides` sets what the spec is about. Written
 * out field by field (not through `newlyQueuedEmail`), so a spec's expected row does not come from
 * the code under test.
 */
export function aPendingEmail(overrides: Partial<PendingEmail> = {}): PendingEmail {
  return {
    userId: 'u-1001',
    emailType: 'NEW_USER',
    queuedEventId: 'q-1',
    queuedAt: FIXED_NOW,
    firstQueuedAt: FIXED_NOW,
    attempts: 0,
    lastError: null,
    claimedTick: null,
    claimedAt: null,
    claimToken: null,
    context: {},
    ...overrides,
  };
}
