import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deriveEventId, newEventId } from './event-id.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('deriveEventId', () => {
  it('returns the same id for the same parts', () => {
    assert.equal(deriveEventId('e-1', 'idm.email.sent', 'u1001'), deriveEventId('e-1', 'idm.email.sent', 'u1001'));
  });

  it('returns different ids for different parts', () => {
    const base = deriveEventId('e-1', 'idm.email.sent', 'u1001');
    assert.notEqual(deriveEventId('e-2', 'idm.email.sent', 'u1001'), base);
    assert.notEqual(deriveEventId('e-1', 'idm.email.failed', 'u1001'), base);
    assert.notEqual(deriveEventId('e-1', 'idm.email.sent', 'u1001', 'NEW_USER'), base);
  });

  it('keeps part boundaries: ("ab", "c") differs from ("a", "bc")', () => {
    assert.notEqual(deriveEventId('ab', 'c'), deriveEventId('a', 'bc'));
  });

  it('is a UUID in version 8 layout with the RFC 4122 variant', () => {
    assert.match(deriveEventId('e-1', 'idm.email.sent', 'u1001'), UUID_V8);
  });
});

describe('newEventId', () => {
  it('returns distinct v4 UUIDs', () => {
    const a = newEventId();
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, newEventId());
  });
});
