import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventDataSchemas, EventTypes } from '@idm/contracts';
import { CliError } from '../cli-error.js';
import { eventFields, explainIssues, fieldValue, type EventField } from './event-fields.js';

const field = (type: keyof typeof eventDataSchemas, name: string): EventField => {
  const found = eventFields(type).find((f) => f.name === name);
  assert.ok(found, `${type} has no field ${name}`);
  return found;
};

const usageError = (pattern: RegExp) => (err: unknown) =>
  err instanceof CliError && err.code === 'IDM_CLI_USAGE' && pattern.test(err.message);

describe('eventFields: the flags of idm publish, read from the contracts', () => {
  it('UserAdded: the user id is required, the rest optional, in schema order, with what each takes in words', () => {
    assert.deepEqual(
      eventFields(EventTypes.UserAdded).map((f) => [f.flag, f.required, f.kind, f.expected]),
      [
        ['user-id', true, 'text', 'text of 1 to 256 characters'],
        ['email', false, 'text', 'an email address'],
        ['display-name', false, 'text', 'text of at most 512 characters'],
        ['attributes', false, 'json', 'a JSON object'],
      ],
    );
  });

  it('enums, numbers, booleans, nullable times and described fields', () => {
    assert.equal(field(EventTypes.UserRemoved, 'reason').expected, 'one of deleted, moved-out-of-scope');
    assert.equal(field(EventTypes.PasswordSynced, 'attempt').expected, 'a whole number ≥ 1');
    assert.equal(field(EventTypes.BulkTaskTick, 'catchUp').kind, 'boolean');
    const expiresAt = field(EventTypes.PasswordSyncFailed, 'expiresAt');
    assert.equal(expiresAt.nullable, true);
    assert.match(expiresAt.expected, /^an ISO-8601 time .* or null$/);
    assert.match(field(EventTypes.BulkTaskTick, 'missedSlots').description ?? '', /^Slots between the previous tick/);
    assert.equal(field(EventTypes.EmailQueued, 'causationEvent').expected, 'a JSON object with id, type');
  });
});

describe('fieldValue: a flag as its field', () => {
  it('converts by kind', () => {
    assert.equal(fieldValue(field(EventTypes.PasswordSynced, 'attempt'), '3'), 3);
    assert.equal(fieldValue(field(EventTypes.BulkTaskTick, 'catchUp'), 'false'), false);
    assert.deepEqual(fieldValue(field(EventTypes.UserModified, 'changes'), '{"displayName":"Ada"}'), { displayName: 'Ada' });
    assert.equal(fieldValue(field(EventTypes.PasswordSyncFailed, 'expiresAt'), 'null'), null);
    assert.equal(fieldValue(field(EventTypes.UserAdded, 'displayName'), 'null'), 'null', 'null is text where null is not allowed');
  });

  it('says which flag and what it expected when the text cannot be that kind', () => {
    assert.throws(
      () => fieldValue(field(EventTypes.PasswordSynced, 'attempt'), 'two'),
      usageError(/^--attempt: expected a whole number ≥ 1, got "two"$/),
    );
    assert.throws(
      () => fieldValue(field(EventTypes.BulkTaskTick, 'catchUp'), 'yes'),
      usageError(/^--catch-up: expected true or false, got "yes"$/),
    );
    assert.throws(
      () => fieldValue(field(EventTypes.UserModified, 'changes'), '{oops'),
      usageError(/^--changes: expected a JSON object, got/),
    );
  });
});

describe('explainIssues: the zod verdict in words, naming flags', () => {
  const explain = (type: keyof typeof eventDataSchemas, data: Record<string, unknown>): string => {
    const result = eventDataSchemas[type].safeParse(data);
    assert.equal(result.success, false);
    return explainIssues(eventFields(type), data, result.error!.issues);
  };

  it('a missing required field', () => {
    assert.equal(explain(EventTypes.UserRemoved, { userId: 'u1' }), '--reason is required: expected one of deleted, moved-out-of-scope');
  });

  it('a wrong value, with what was given', () => {
    assert.equal(explain(EventTypes.UserAdded, { userId: 'u1', email: 'nope' }), '--email: expected an email address, got "nope"');
    assert.equal(
      explain(EventTypes.UserRemoved, { userId: 'u1', reason: 'gone' }),
      '--reason: expected one of deleted, moved-out-of-scope, got "gone"',
    );
  });

  it('every issue, and where inside a JSON field', () => {
    const text = explain(EventTypes.EmailQueued, { userId: '', emailType: 'NEW_USER', causationEvent: { id: 'e1' } });
    assert.match(
      text,
      /^--user-id: expected text of 1 to 256 characters, got ""; --causation-event: expected a JSON object with id, type, got \{"id":"e1"\} \(type: /,
    );
  });
});
