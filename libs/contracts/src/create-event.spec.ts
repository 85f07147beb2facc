import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent } from './create-event.js';
import { DecodeError } from './decode.js';
import { CURRENT_DATA_VERSION } from './envelope.js';
import { deriveEventId } from './event-id.js';
import { EventTypes } from './event-types.js';
import { sampleData, sampleOptions } from './sample-events.fixture.js';

const added = sampleData[EventTypes.UserAdded];

describe('createEvent', () => {
  describe('given no cause', () => {
    it('stamps a CloudEvents 1.0 envelope with a fresh id that is its own correlation id', () => {
      const event = createEvent(EventTypes.UserAdded, added.subject, added.data, {
        source: '/idm/spec',
        time: new Date('2024-05-01T10:00:00Z'),
      });
      assert.equal(event.specversion, '1.0');
      assert.equal(event.type, 'idm.user.added');
      assert.equal(event.subject, 'u1001');
      assert.equal(event.time, '2024-05-01T10:00:00.000Z');
      assert.equal(event.datacontenttype, 'application/json');
      assert.equal(event.dataversion, CURRENT_DATA_VERSION);
      assert.equal(event.correlationid, event.id);
      assert.equal(event.causationid, undefined);
      assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('uses an explicit id and correlation id when given', () => {
      const event = createEvent(EventTypes.UserAdded, added.subject, added.data, { ...sampleOptions, id: 'slot-1', correlationId: 'c-9' });
      assert.equal(event.id, 'slot-1');
      assert.equal(event.correlationid, 'c-9');
    });
  });

  describe('given a cause', () => {
    const cause = createEvent(EventTypes.UserAdded, added.subject, added.data, {
      ...sampleOptions,
      id: 'cause-1',
      correlationId: 'corr-1',
    });
    const queued = sampleData[EventTypes.EmailQueued];

    it('sets causationid to the cause id and carries its correlation id over', () => {
      const event = createEvent(EventTypes.EmailQueued, queued.subject, queued.data, { ...sampleOptions, causedBy: cause });
      assert.equal(event.causationid, 'cause-1');
      assert.equal(event.correlationid, 'corr-1');
    });

    it("falls back to the cause's id as correlation id when the cause has none", () => {
      const event = createEvent(EventTypes.EmailQueued, queued.subject, queued.data, { ...sampleOptions, causedBy: { id: 'cause-2' } });
      assert.equal(event.correlationid, 'cause-2');
    });

    it('derives the same id on a retry, and a different one per discriminator', () => {
      const first = createEvent(EventTypes.EmailQueued, queued.subject, queued.data, { ...sampleOptions, causedBy: cause });
      const retry = createEvent(EventTypes.EmailQueued, queued.subject, queued.data, { ...sampleOptions, causedBy: cause });
      const other = createEvent(EventTypes.EmailQueued, queued.subject, queued.data, {
        ...sampleOptions,
        causedBy: cause,
        discriminator: ['NEW_USER'],
      });
      assert.equal(first.id, retry.id);
      assert.equal(first.id, deriveEventId('cause-1', EventTypes.EmailQueued, queued.subject));
      assert.notEqual(first.id, other.id);
    });
  });

  describe('rejects an event that would not decode', () => {
    it('invalid data, naming the field', () => {
      assert.throws(
        () => createEvent(EventTypes.UserAdded, 'u1001', { ...added.data, email: 'nope' }, sampleOptions),
        (err: unknown) => err instanceof DecodeError && err.failure === 'data-invalid' && err.field === 'data.email',
      );
    });

    it('a subject that is not data.userId', () => {
      assert.throws(
        () => createEvent(EventTypes.UserAdded, 'u2002', added.data, sampleOptions),
        (err: unknown) => err instanceof DecodeError && err.failure === 'envelope-invalid' && err.field === 'subject',
      );
    });

    it('an invalid Date', () => {
      assert.throws(
        () => createEvent(EventTypes.UserAdded, 'u1001', added.data, { source: '/idm/spec', time: new Date('nope') }),
        (err: unknown) => err instanceof DecodeError && err.field === 'time',
      );
    });
  });
});
