import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveEventId } from '@idm/contracts';
import { anEvent, FIXED_NOW } from '@idm/testing';
import type { PendingEmail } from '../pending-emails/pending-email.js';
import { decideDelivery, planDelivery, type DeliveryContext } from './delivery.decider.js';

const HOUR = 3_600_000;
const tick = anEvent.bulkTaskTick({ task: 'RetryEmailNotifications' });
const ctx: DeliveryContext = { tick, now: FIXED_NOW, limits: { maxAttempts: 3, maxAgeMs: 72 * HOUR }, source: '/idm/notifier' };

function pending(overrides: Partial<PendingEmail> = {}): PendingEmail {
  return {
    userId: 'u-1001',
    emailType: 'PASSWORD_CHANGED',
    queuedEventId: 'q-1',
    queuedAt: new Date(FIXED_NOW.getTime() - HOUR),
    firstQueuedAt: new Date(FIXED_NOW.getTime() - HOUR),
    attempts: 0,
    lastError: null,
    claimedTick: tick.id,
    claimedAt: FIXED_NOW,
    claimToken: 't',
    context: {},
    ...overrides,
  };
}

describe('delivery of one claimed email', () => {
  describe('given a fresh email (no attempt yet)', () => {
    it('when planned, then it is sent as attempt 1', () => {
      assert.deepEqual(planDelivery(pending(), ctx), { kind: 'send', attempt: 1 });
    });

    it('when the send succeeds, then only EmailSent is appended, derived from the tick', () => {
      const [sent, ...rest] = decideDelivery(pending(), 1, { ok: true, messageId: '<q-1@example.com>' }, ctx);
      assert.equal(rest.length, 0);
      assert.equal(sent.type, 'idm.email.sent');
      assert.deepEqual(sent.data, {
        userId: 'u-1001',
        emailType: 'PASSWORD_CHANGED',
        messageId: '<q-1@example.com>',
        attempt: 1,
        tick: tick.id,
      });
      assert.equal(sent.id, deriveEventId(tick.id, 'idm.email.sent', 'u-1001', 'PASSWORD_CHANGED'));
    });

    it('when the send fails transiently, then EmailFailed(transient) only: the flag stays for the next tick', () => {
      const events = decideDelivery(pending(), 1, { ok: false, permanent: false, error: '451 try later' }, ctx);
      assert.deepEqual(
        events.map((e) => [e.type, e.data]),
        [
          [
            'idm.email.failed',
            { userId: 'u-1001', emailType: 'PASSWORD_CHANGED', error: '451 try later', permanent: false, attempt: 1, tick: tick.id },
          ],
        ],
      );
    });

    it('when the send fails permanently, then EmailFailed(permanent) and EmailAbandoned', () => {
      const events = decideDelivery(pending(), 1, { ok: false, permanent: true, error: '550 no such user' }, ctx);
      assert.deepEqual(
        events.map((e) => [e.type, e.data]),
        [
          [
            'idm.email.failed',
            { userId: 'u-1001', emailType: 'PASSWORD_CHANGED', error: '550 no such user', permanent: true, attempt: 1, tick: tick.id },
          ],
          ['idm.email.abandoned', { userId: 'u-1001', emailType: 'PASSWORD_CHANGED', attempts: 1, lastError: '550 no such user' }],
        ],
      );
    });
  });

  describe('given an email at its last allowed attempt', () => {
    const last = pending({ attempts: 2, lastError: '451 later' });

    it('when planned, then it is sent as attempt 3', () => {
      assert.deepEqual(planDelivery(last, ctx), { kind: 'send', attempt: 3 });
    });

    it('when that send fails transiently, then it is abandoned too', () => {
      const events = decideDelivery(last, 3, { ok: false, permanent: false, error: '421 busy' }, ctx);
      assert.deepEqual(
        events.map((e) => e.type),
        ['idm.email.failed', 'idm.email.abandoned'],
      );
      assert.deepEqual(events[1]?.data, { userId: 'u-1001', emailType: 'PASSWORD_CHANGED', attempts: 3, lastError: '421 busy' });
    });

    it('when that send succeeds, then EmailSent only', () => {
      assert.deepEqual(
        decideDelivery(last, 3, { ok: true, messageId: '<m>' }, ctx).map((e) => e.type),
        ['idm.email.sent'],
      );
    });
  });

  describe('given an email whose attempts are used up', () => {
    it('when planned, then it is abandoned without contacting the server', () => {
      const plan = planDelivery(pending({ attempts: 3, lastError: '451 later' }), ctx);
      assert.equal(plan.kind, 'abandon');
      assert.ok(plan.kind === 'abandon');
      assert.equal(plan.why, 'max-attempts');
      assert.deepEqual(plan.events[0].data, { userId: 'u-1001', emailType: 'PASSWORD_CHANGED', attempts: 3, lastError: '451 later' });
    });
  });

  describe('given an email older than the age limit', () => {
    const old = pending({ firstQueuedAt: new Date(FIXED_NOW.getTime() - 72 * HOUR) });

    it('when planned, then it is abandoned (max-age) without sending', () => {
      const plan = planDelivery(old, ctx);
      assert.ok(plan.kind === 'abandon');
      assert.equal(plan.why, 'max-age');
      assert.equal(plan.events[0].data.lastError, 'age limit reached before any attempt');
    });

    it('when a send made just inside the limit fails transiently after it, then it is abandoned', () => {
      const nearlyOld = pending({ firstQueuedAt: new Date(FIXED_NOW.getTime() - 72 * HOUR + 1) });
      assert.deepEqual(planDelivery(nearlyOld, ctx), { kind: 'send', attempt: 1 });
      const later = { ...ctx, now: new Date(FIXED_NOW.getTime() + 1) };
      assert.deepEqual(
        decideDelivery(nearlyOld, 1, { ok: false, permanent: false, error: 'ETIMEDOUT' }, later).map((e) => e.type),
        ['idm.email.failed', 'idm.email.abandoned'],
      );
    });
  });

  describe('given the same tick is processed again after a crash', () => {
    it('then the same event ids result, so JetStream drops the duplicates', () => {
      const a = decideDelivery(pending(), 1, { ok: false, permanent: true, error: '550' }, ctx);
      const b = decideDelivery(
        pending(),
        1,
        { ok: false, permanent: true, error: '550' },
        { ...ctx, now: new Date(FIXED_NOW.getTime() + 5000) },
      );
      assert.deepEqual(
        a.map((e) => e.id),
        b.map((e) => e.id),
      );
    });
  });
});
