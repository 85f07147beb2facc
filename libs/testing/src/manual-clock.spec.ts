import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Clock } from '@idm/config';
import { FIXED_NOW } from './given-when-then.js';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('is a Clock that starts at FIXED_NOW unless told otherwise', () => {
    assert.ok(new ManualClock() instanceof Clock);
    assert.equal(new ManualClock().now().toISOString(), FIXED_NOW.toISOString());
    assert.equal(new ManualClock('2026-03-01T10:00:00.000Z').now().toISOString(), '2026-03-01T10:00:00.000Z');
  });

  it('stands still until set or advanced', () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    assert.equal(clock.now().getTime(), clock.now().getTime());
    clock.advance(1_500);
    assert.equal(clock.now().toISOString(), '2026-03-01T10:00:01.500Z');
    clock.set(new Date('2026-02-01T00:00:00.000Z'));
    assert.equal(clock.now().toISOString(), '2026-02-01T00:00:00.000Z');
  });

  it('hands out a copy: mutating a returned Date does not move the clock', () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    clock.now().setUTCFullYear(1999);
    assert.equal(clock.now().toISOString(), '2026-03-01T10:00:00.000Z');
  });
});
