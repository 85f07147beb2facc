import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anEvent } from '@idm/testing';
import { OperationsError } from './errors.js';
import { eventTypeNames, findEventType, tailFilters } from './event-filter.js';
import { REDACTED } from '@idm/config';
import { redactPayload } from './redact-payload.js';
import { mergeAsync } from './merge-async.js';
import { eventsPerMinute, groupTimeline } from './timeline.js';

describe('groupTimeline', () => {
  it('puts a cause and its effects together, newest group first, newest event first inside', () => {
    const added = anEvent.userAdded({}, { id: 'e-added' });
    const queued = anEvent.emailQueued({}, { causedBy: added });
    const changed = anEvent.passwordChanged({}, { id: 'e-changed' });
    const synced = anEvent.passwordSynced({}, { causedBy: changed });
    const groups = groupTimeline([
      { seq: 1, event: added },
      { seq: 2, event: queued },
      { seq: 3, event: changed },
      { seq: 4, event: synced },
    ]);
    assert.deepEqual(
      groups.map((g) => g.events.map((e) => e.seq)),
      [
        [4, 3],
        [2, 1],
      ],
    );
    assert.equal(groups[1]!.correlationId, added.correlationid ?? added.id);
  });

  it('an event without a correlation id is a group of its own', () => {
    const lone = { ...anEvent.userAdded(), correlationid: undefined };
    assert.deepEqual(groupTimeline([{ seq: 7, event: lone }]), [{ correlationId: lone.id, events: [{ seq: 7, event: lone }] }]);
  });
});

describe('eventsPerMinute', () => {
  const now = new Date('2026-01-01T10:30:20Z');
  it('counts by type per whole minute, oldest minute first, ending with the current minute', () => {
    const r = eventsPerMinute(
      [
        { type: 'idm.user.added', time: new Date('2026-01-01T10:30:01Z') },
        { type: 'idm.user.added', time: new Date('2026-01-01T10:30:59Z') },
        { type: 'idm.email.sent', time: new Date('2026-01-01T10:28:00Z') },
      ],
      now,
      3,
    );
    assert.deepEqual(r.minutes, ['2026-01-01T10:28:00.000Z', '2026-01-01T10:29:00.000Z', '2026-01-01T10:30:00.000Z']);
    assert.deepEqual(r.byType, { 'idm.user.added': [0, 0, 2], 'idm.email.sent': [1, 0, 0] });
  });

  it('ignores events outside the window', () => {
    const r = eventsPerMinute([{ type: 'idm.user.added', time: new Date('2026-01-01T10:27:59Z') }], now, 3);
    assert.deepEqual(r.byType, {});
  });
});

describe('redactPayload', () => {
  it('replaces secret-looking fields at any depth, never showing their length', () => {
    const out = redactPayload(
      JSON.stringify({ data: { userId: 'u-1', password: 'hunter2', nested: [{ ciphertext: 'abc', apiToken: 't' }] }, key: 'k' }),
    );
    assert.doesNotMatch(out, /hunter2|abc|"t"|"k"/);
    assert.equal(JSON.parse(out).data.password, REDACTED);
    assert.equal(JSON.parse(out).data.userId, 'u-1');
  });

  it('keeps text that is not JSON as it is', () => {
    assert.equal(redactPayload('not json'), 'not json');
  });
});

describe('tailFilters', () => {
  it('maps a type name, a user and a raw subject; nothing is everything', () => {
    assert.deepEqual(tailFilters('user-added'), ['idm.user.added.*']);
    assert.deepEqual(tailFilters('idm.email.sent'), ['idm.email.sent.*']);
    assert.deepEqual(tailFilters('idm.user.>'), ['idm.user.>']);
    assert.deepEqual(tailFilters(''), []);
  });

  it('a user is one filter per stream subject, each a subset of it (nats-server 2.9 allows no other)', () => {
    assert.deepEqual(tailFilters('user:u-1'), ['idm.user.*.u-1', 'idm.password.*.u-1', 'idm.bulk-task.*.u-1', 'idm.email.*.u-1']);
  });

  it('an unknown type is a usage error listing the known ones', () => {
    assert.throws(
      () => tailFilters('nope'),
      (err: unknown) => err instanceof OperationsError && err.code === 'IDM_OPS_USAGE' && err.message.includes('user-added'),
    );
  });

  it('finds types by any spelling, and knows every contract type', () => {
    assert.equal(findEventType('PasswordSynced'), 'idm.password.synced');
    assert.equal(findEventType('password_synced'), 'idm.password.synced');
    assert.equal(findEventType('x'), undefined);
    assert.ok(eventTypeNames().includes('email-abandoned'));
  });
});

describe('mergeAsync', () => {
  it('yields every item of every source and ends when all have ended', async () => {
    async function* gen(items: number[]): AsyncGenerator<number> {
      for (const i of items) {
        await Promise.resolve();
        yield i;
      }
    }
    const seen: number[] = [];
    for await (const x of mergeAsync([gen([1, 3, 5]), gen([2, 4]), gen([])])) seen.push(x);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      seen.filter((x) => x % 2 === 1),
      [1, 3, 5],
    );
  });
});
