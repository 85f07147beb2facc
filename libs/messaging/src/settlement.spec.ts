import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '@idm/contracts';
import { decideSettlement, isPastDeliveryLimit, type SettlementPolicy } from './settlement.js';
import { PermanentError, TransientError } from './errors.js';

const policy: SettlementPolicy = { maxDeliver: 5, backoff: { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0 } };

describe('the settlement table', () => {
  describe('success, deliberate ignore, duplicate', () => {
    it('acks a handled delivery', () => {
      assert.deepEqual(decideSettlement({ kind: 'handled' }, 1, policy), { action: 'ack' });
    });
    it('acks an event type this consumer has no handler for', () => {
      assert.deepEqual(decideSettlement({ kind: 'no-handler' }, 3, policy), { action: 'ack' });
    });
  });

  describe('cannot be decoded', () => {
    it('dead-letters an undecodable event on its first delivery, naming the failure', () => {
      const s = decideSettlement({ kind: 'failed', error: new DecodeError('unknown-type', 'unknown event type "x"', 'type') }, 1, policy);
      assert.equal(s.action, 'dead-letter');
      assert.equal(s.action === 'dead-letter' && s.reason, 'undecodable');
      assert.equal(s.action === 'dead-letter' && s.code, 'IDM_EVENT_INVALID:unknown-type');
    });
  });

  describe('permanent failure', () => {
    it('dead-letters at once with the error code', () => {
      const s = decideSettlement({ kind: 'failed', error: new PermanentError('user is gone', { code: 'X_GONE' }) }, 1, policy);
      assert.deepEqual(s, { action: 'dead-letter', reason: 'permanent-failure', code: 'X_GONE', message: 'user is gone' });
    });
  });

  describe('transient failure', () => {
    it('naks with a delay that doubles per delivery', () => {
      const delays = [1, 2, 3, 4].map((n) => decideSettlement({ kind: 'failed', error: new TransientError('smtp 421') }, n, policy));
      assert.deepEqual(
        delays,
        [1_000, 2_000, 4_000, 8_000].map((delayMs) => ({ action: 'nak', delayMs })),
      );
    });
    it('caps the delay', () => {
      const s = decideSettlement({ kind: 'failed', error: new Error('db down') }, 4, {
        ...policy,
        maxDeliver: 100,
        backoff: { ...policy.backoff, maxMs: 5_000 },
      });
      assert.deepEqual(s, { action: 'nak', delayMs: 5_000 });
    });
    it('treats an unknown thrown value as transient', () => {
      assert.equal(decideSettlement({ kind: 'failed', error: 'boom' }, 1, policy).action, 'nak');
    });
  });

  describe('last allowed delivery', () => {
    it('dead-letters when the last delivery fails, keeping the last error', () => {
      const s = decideSettlement({ kind: 'failed', error: new TransientError('smtp 421', { code: 'SMTP_421' }) }, 5, policy);
      assert.equal(s.action, 'dead-letter');
      assert.equal(s.action === 'dead-letter' && s.reason, 'max-deliveries');
      assert.equal(s.action === 'dead-letter' && s.code, 'SMTP_421');
      assert.match(s.action === 'dead-letter' ? s.message : '', /failed 5 deliveries; last error: smtp 421/);
    });
    it('flags deliveries past the limit so the handler is not run again', () => {
      assert.equal(isPastDeliveryLimit(5, policy), false);
      assert.equal(isPastDeliveryLimit(6, policy), true);
    });
  });
});
