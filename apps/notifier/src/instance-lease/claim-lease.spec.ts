import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIXED_NOW } from '@idm/testing';
import { claimCutoffs, isClaimFree, leaseSettingsProblem, type ClaimState } from './claim-lease.js';

const SECOND = 1000;
const settings = { leaseTimeoutMs: 30 * SECOND, heartbeatMs: 10 * SECOND, claimTtlMs: 900 * SECOND };
const cutoffs = claimCutoffs(FIXED_NOW, settings);
const ago = (ms: number): Date => new Date(FIXED_NOW.getTime() - ms);
const claimedBy = (owner: string | null, claimedAgoMs = SECOND): ClaimState => ({ claimToken: 'token-1', claimedAt: ago(claimedAgoMs), claimOwner: owner });

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
