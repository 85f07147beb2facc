import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anEvent } from '@idm/testing';
import { emailSummary } from './email-summary.js';

describe('emailSummary', () => {
  const now = new Date('2026-01-01T12:30:00Z');
  it('counts outcomes by email type and per hour within the window; other events and older ones are ignored', () => {
    const at = (iso: string) => ({ time: new Date(iso) });
    const events = [
      anEvent.emailQueued({ emailType: 'NEW_USER' }, at('2026-01-01T12:01:00Z')),
      anEvent.emailSent({ emailType: 'NEW_USER' }, at('2026-01-01T12:02:00Z')),
      anEvent.emailFailed({ emailType: 'PASSWORD_CHANGED' }, at('2026-01-01T11:10:00Z')),
      anEvent.emailSent({ emailType: 'NEW_USER' }, at('2026-01-01T09:59:00Z')),
      anEvent.userAdded({}, at('2026-01-01T12:03:00Z')),
    ];
    const s = emailSummary(events, now, 2);
    assert.deepEqual(s.hours, ['2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z']);
    assert.deepEqual(s.byType, {
      NEW_USER: { queued: 1, sent: 1, failed: 0, abandoned: 0 },
      PASSWORD_CHANGED: { queued: 0, sent: 0, failed: 1, abandoned: 0 },
    });
    assert.deepEqual(s.perHour, { queued: [0, 1], sent: [0, 1], failed: [1, 0], abandoned: [0, 0] });
  });
});
