import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@idm/config';
import { FIXED_NOW } from '@idm/testing';
import { readNotifierConfig } from '../notifier.config.js';
import { claimCutoffs, isClaimFree, leaseSettingsProblem, type ClaimState } from './claim-lease.js';

const SECOND = 1000;
const settings = { leaseTimeoutMs: 30 * SECOND, heartbeatMs: 10 * SECOND, claimTtlMs: 900 * SECOND };
const cutoffs = claimCutoffs(FIXED_NOW, settings);
const ago = (ms: number): Date => new Date(FIXED_NOW.getTime() - ms);
const claimedBy = (owner: string | null, claimedAgoMs = SECOND): ClaimState => ({
  claimToken: 'token-1',
  claimedAt: ago(claimedAgoMs),
  claimOwner: owner,
});

describe('whether a pending email may be claimed', () => {
  describe('given an unclaimed email', () => {
    it('then it is free', () => {
      assert.equal(isClaimFree({ claimToken: null, claimedAt: null, claimOwner: null }, undefined, cutoffs), true);
    });
  });

  describe('given an email claimed by a live instance (heartbeat 5 s ago)', () => {
    it('when the claim is recent, then it is not free (no second send in one tick)', () => {
      assert.equal(isClaimFree(claimedBy('a'), ago(5 * SECOND), cutoffs), false);
    });
    it('when the claim is older than the claim TTL, then it is free (a hung run does not hold it forever)', () => {
      assert.equal(isClaimFree(claimedBy('a', 901 * SECOND), ago(5 * SECOND), cutoffs), true);
    });
    it('when the heartbeat is exactly at the lease timeout, then it is still live', () => {
      assert.equal(isClaimFree(claimedBy('a'), ago(30 * SECOND), cutoffs), false);
    });
  });

  describe('given an email claimed by an instance whose lease lapsed (heartbeat 31 s ago)', () => {
    it('then it is free at the next tick, long before the claim TTL', () => {
      assert.equal(isClaimFree(claimedBy('a'), ago(31 * SECOND), cutoffs), true);
    });
  });

  describe('given an email claimed by an instance with no lease row (purged, or deleted by hand)', () => {
    it('then it is free', () => {
      assert.equal(isClaimFree(claimedBy('gone'), undefined, cutoffs), true);
    });
  });

  describe('given a claim from before leases existed (no owner)', () => {
    it('when it is younger than the claim TTL, then it is not free', () => {
      assert.equal(isClaimFree(claimedBy(null, 60 * SECOND), undefined, cutoffs), false);
    });
    it('when it is older than the claim TTL, then it is free', () => {
      assert.equal(isClaimFree(claimedBy(null, 901 * SECOND), undefined, cutoffs), true);
    });
  });
});

describe('checking lease settings', () => {
  it('accepts the defaults (heartbeat 10 s, lease 30 s, claim TTL 900 s)', () => {
    assert.equal(leaseSettingsProblem(settings), undefined);
  });
  it('refuses a heartbeat slower than half the lease timeout', () => {
    assert.match(leaseSettingsProblem({ ...settings, heartbeatMs: 20 * SECOND }) ?? '', /NOTIFIER_LEASE_HEARTBEAT_SECONDS/);
  });
  it('refuses a claim TTL shorter than the lease timeout', () => {
    assert.match(leaseSettingsProblem({ ...settings, claimTtlMs: 10 * SECOND }) ?? '', /EMAIL_CLAIM_TTL_SECONDS/);
  });
});

describe('lease configuration of the notifier', () => {
  const base = { SMTP_URL: 'smtp://mail.example', MAIL_FROM: 'noreply@idm.example' };
  it('defaults: lease 30 s, heartbeat 10 s, claim TTL 900 s, random instance id', () => {
    const config = readNotifierConfig(base);
    assert.deepEqual(config.lease, { leaseTimeoutMs: 30_000, heartbeatMs: 10_000, claimTtlMs: 900_000 });
    assert.equal(config.instanceId, undefined);
  });
  it('a heartbeat too slow for the lease timeout is a start-up error naming both variables', () => {
    assert.throws(
      () => readNotifierConfig({ ...base, NOTIFIER_LEASE_TIMEOUT_SECONDS: '15', NOTIFIER_LEASE_HEARTBEAT_SECONDS: '10' }),
      (e: unknown) =>
        e instanceof ConfigError && /NOTIFIER_LEASE_HEARTBEAT_SECONDS/.test(e.message) && /NOTIFIER_LEASE_TIMEOUT_SECONDS/.test(e.message),
    );
  });
  it('NOTIFIER_INSTANCE_ID is a short name of safe characters', () => {
    assert.equal(readNotifierConfig({ ...base, NOTIFIER_INSTANCE_ID: 'notifier-7c9f-x2' }).instanceId, 'notifier-7c9f-x2');
    assert.throws(() => readNotifierConfig({ ...base, NOTIFIER_INSTANCE_ID: 'has space' }), ConfigError);
  });
});
