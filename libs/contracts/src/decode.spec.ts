import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent } from './create-event.js';
import { DecodeError, decodeEvent, encodeEvent, type DecodeFailure } from './decode.js';
import { EventTypes, ALL_EVENT_TYPES, type EventType } from './event-types.js';
import { sampleData, sampleOptions } from './sample-events.fixture.js';

function sample<T extends EventType>(type: T) {
  const { subject, data } = sampleData[type];
  return createEvent(type, subject, data, sampleOptions);
}

/** A valid wire object for user.added, to break one field at a time. */
function wire(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(sample(EventTypes.UserAdded))) as Record<string, unknown>;
}

function assertRejects(input: unknown, failure: DecodeFailure, field: string | undefined): void {
  assert.throws(
    () => decodeEvent(input),
    (err: unknown) => {
      assert.ok(err instanceof DecodeError, `expected DecodeError, got ${String(err)}`);
      assert.equal(err.code, 'IDM_EVENT_INVALID');
      assert.equal(err.failure, failure);
      assert.equal(err.field, field);
      if (field) assert.ok(err.message.includes(field), `message ${JSON.stringify(err.message)} names ${field}`);
      return true;
    },
  );
}

describe('decodeEvent', () => {
  describe('round trip: createEvent → encodeEvent → decodeEvent', () => {
    for (const type of ALL_EVENT_TYPES) {
      it(`returns an equal ${type} event`, () => {
        const event = sample(type);
        assert.deepEqual(decodeEvent(encodeEvent(event)), event);
      });
    }

    it('accepts a JSON string and an already parsed object alike', () => {
      const event = sample(EventTypes.EmailSent);
      assert.deepEqual(decodeEvent(JSON.stringify(event)), event);
      assert.deepEqual(decodeEvent(JSON.parse(JSON.stringify(event))), event);
    });

    it('drops unknown extension attributes and unknown data fields (tolerant reader)', () => {
      const event = sample(EventTypes.UserModified);
      const extended = { ...event, traceparent: '00-abc', data: { ...event.data, futureField: 1 } };
      assert.deepEqual(decodeEvent(extended), event);
    });

    it('accepts a UserAdded without email at dataversion 1 (accounts without a mail attribute)', () => {
      const w = wire();
      const { email: _omitted, ...data } = w['data'] as Record<string, unknown>;
      const decoded = decodeEvent({ ...w, data });
      assert.equal(decoded.dataversion, '1');
      assert.equal((decoded.data as Record<string, unknown>)['email'], undefined);
    });

    it('still accepts an old UserAdded with email and a PasswordExpired without reason', () => {
      assert.equal((decodeEvent(wire()).data as Record<string, unknown>)['email'], 'jane.doe@example.com');
      const expired = JSON.parse(JSON.stringify(sample(EventTypes.PasswordExpired))) as Record<string, unknown>;
      assert.equal((decodeEvent(expired).data as Record<string, unknown>)['reason'], undefined);
      const removed = { ...expired, data: { ...(expired['data'] as object), reason: 'user-removed' } };
      assert.equal((decodeEvent(removed).data as Record<string, unknown>)['reason'], 'user-removed');
    });

    it('defaults a missing datacontenttype to application/json', () => {
      const { datacontenttype: _omitted, ...rest } = wire();
      assert.equal(decodeEvent(rest).datacontenttype, 'application/json');
    });
  });

  describe('a plain CloudEvent from another publisher (no dataversion extension)', () => {
    it('reads a missing dataversion as version 1 and returns the event at the current version', () => {
      const full = wire();
      const { dataversion: _omitted, ...plain } = full;
      assert.deepEqual(decodeEvent(plain), decodeEvent(full));
      assert.equal(decodeEvent(JSON.stringify(plain)).dataversion, '1');
    });

    it('accepts the minimal CloudEvents 1.0 attribute set (no datacontenttype, no idm extensions)', () => {
      const plain = {
        specversion: '1.0',
        id: 'ext-7f3a',
        source: 'https://hr.example.com/people',
        type: 'idm.user.added',
        subject: 'u-77',
        time: '2026-01-05T09:00:00Z',
        data: { userId: 'u-77', email: 'u77@example.com' },
      };
      const event = decodeEvent(Buffer.from(JSON.stringify(plain)));
      assert.equal(event.type, EventTypes.UserAdded);
      assert.equal(event.dataversion, '1');
      assert.equal(event.datacontenttype, 'application/json');
      assert.equal(event.correlationid, undefined);
    });

    it('still validates data of a CloudEvent without dataversion', () => {
      const { dataversion: _omitted, ...plain } = wire();
      assertRejects({ ...plain, data: { ...(plain['data'] as object), email: 'nope' } }, 'data-invalid', 'data.email');
    });
  });

  describe('rejects, naming the field', () => {
    it('bytes that are not JSON', () => {
      assertRejects(Buffer.from('{"specversion":'), 'not-json', undefined);
    });

    it('JSON that is not an object', () => {
      assertRejects('[1,2]', 'envelope-invalid', '(root)');
    });

    it('a missing id', () => {
      const { id: _omitted, ...rest } = wire();
      assertRejects(rest, 'envelope-invalid', 'id');
    });

    it('a wrong specversion', () => {
      assertRejects({ ...wire(), specversion: '0.3' }, 'envelope-invalid', 'specversion');
    });

    it('a time without a zone', () => {
      assertRejects({ ...wire(), time: '2024-05-01 10:00' }, 'envelope-invalid', 'time');
    });

    it('a non-numeric dataversion', () => {
      assertRejects({ ...wire(), dataversion: 'v1' }, 'envelope-invalid', 'dataversion');
    });

    it('an unknown type', () => {
      assertRejects({ ...wire(), type: 'idm.user.deleted' }, 'unknown-type', 'type');
    });

    it('a dataversion newer than the current one', () => {
      assertRejects({ ...wire(), dataversion: '2' }, 'unsupported-version', 'dataversion');
    });

    it('an unknown far-future dataversion', () => {
      assertRejects({ ...wire(), dataversion: '99' }, 'unsupported-version', 'dataversion');
    });

    it('an empty or null dataversion (present but not a version: not the same as absent)', () => {
      assertRejects({ ...wire(), dataversion: '' }, 'envelope-invalid', 'dataversion');
      assertRejects({ ...wire(), dataversion: null }, 'envelope-invalid', 'dataversion');
    });

    it('a malformed email in data', () => {
      const w = wire();
      assertRejects({ ...w, data: { ...(w['data'] as object), email: 'not-an-email' } }, 'data-invalid', 'data.email');
    });

    it('a missing data field', () => {
      const w = wire();
      const { userId: _omitted, ...data } = w['data'] as Record<string, unknown>;
      assertRejects({ ...w, data }, 'data-invalid', 'data.userId');
    });

    it('a nested data field of the wrong type', () => {
      const event = JSON.parse(JSON.stringify(sample(EventTypes.EmailQueued))) as Record<string, unknown>;
      const data = event['data'] as Record<string, unknown>;
      assertRejects({ ...event, data: { ...data, causationEvent: { id: 'e-1', type: 7 } } }, 'data-invalid', 'data.causationEvent.type');
    });

    it('a UserRemoved with an unknown reason', () => {
      const removed = JSON.parse(JSON.stringify(sample(EventTypes.UserRemoved))) as Record<string, unknown>;
      assertRejects({ ...removed, data: { userId: 'u1001', reason: 'vanished' } }, 'data-invalid', 'data.reason');
    });

    it('a PasswordExpired with an unknown reason', () => {
      const expired = JSON.parse(JSON.stringify(sample(EventTypes.PasswordExpired))) as Record<string, unknown>;
      assertRejects({ ...expired, data: { ...(expired['data'] as object), reason: 'bored' } }, 'data-invalid', 'data.reason');
    });

    it('a subject that differs from data.userId', () => {
      assertRejects({ ...wire(), subject: 'u2002' }, 'envelope-invalid', 'subject');
    });

    it('a tick whose subject differs from data.schedule', () => {
      const tick = JSON.parse(JSON.stringify(sample(EventTypes.BulkTaskTick))) as Record<string, unknown>;
      assertRejects({ ...tick, subject: 'other-schedule' }, 'envelope-invalid', 'subject');
    });
  });
});
