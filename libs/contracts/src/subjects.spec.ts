import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_EVENT_TYPES, EventTypes } from './event-types.js';
import {
  COMMAND_PREFIX,
  STREAM_SUBJECTS,
  SubjectKeyError,
  decodeSubjectKey,
  encodeSubjectKey,
  eventSubject,
  keyFilter,
  parseEventSubject,
  subjectFor,
  typeFilter,
} from './subjects.js';

const isSubjectKeyError = (err: unknown): boolean => err instanceof SubjectKeyError && err.code === 'IDM_SUBJECT_KEY_INVALID';

describe('subject keys', () => {
  describe('a plain key (letters, digits, - and _)', () => {
    for (const key of ['u1001', 'Jane_Doe-42', 'X', '-', '_']) {
      it(`stands as it is: ${key}`, () => {
        assert.equal(encodeSubjectKey(key), key);
        assert.equal(decodeSubjectKey(key), key);
      });
    }
  });

  describe('any other key', () => {
    const keys = [
      'jane.doe@example.com',
      'a b',
      'tab\there',
      'new\nline',
      '*',
      '>',
      'a.*.>',
      '~',
      '~7E',
      'café',
      'Ünïcödé',
      '用户',
      '👩‍💻',
      '😀x😀',
      '%2E',
      'a/b\\c',
    ];
    for (const key of keys) {
      it(`round-trips ${JSON.stringify(key)} through a single safe token`, () => {
        const token = encodeSubjectKey(key);
        assert.doesNotMatch(token, /[.*>\s]/);
        assert.match(token, /^[A-Za-z0-9_~-]+$/);
        assert.equal(decodeSubjectKey(token), key);
      });
    }

    it('escapes each UTF-8 byte as ~HH in upper-case hex', () => {
      assert.equal(encodeSubjectKey('a.b@c'), 'a~2Eb~40c');
      assert.equal(encodeSubjectKey('~'), '~7E');
      assert.equal(encodeSubjectKey('é'), '~C3~A9');
      assert.equal(encodeSubjectKey('😀'), '~F0~9F~98~80');
    });

    it('maps distinct keys to distinct tokens', () => {
      const tokens = new Set(keys.map(encodeSubjectKey));
      assert.equal(tokens.size, keys.length);
    });
  });

  describe('rejects', () => {
    it('an empty key or token', () => {
      assert.throws(() => encodeSubjectKey(''), isSubjectKeyError);
      assert.throws(() => decodeSubjectKey(''), isSubjectKeyError);
    });

    it('a key with an unpaired surrogate, which has no UTF-8 form', () => {
      assert.throws(() => encodeSubjectKey('a\uD800b'), isSubjectKeyError);
    });

    for (const token of ['a.b', 'a b', '~2', '~zz', '~2e', '~41', '~FF', '~C3', 'a*']) {
      it(`the non-canonical or malformed token ${JSON.stringify(token)}`, () => {
        assert.throws(() => decodeSubjectKey(token), isSubjectKeyError);
      });
    }
  });
});

describe('event subjects', () => {
  it('are <type>.<escaped key>', () => {
    assert.equal(subjectFor(EventTypes.UserAdded, 'u1001'), 'idm.user.added.u1001');
    assert.equal(subjectFor(EventTypes.EmailSent, 'jane.doe'), 'idm.email.sent.jane~2Edoe');
    assert.equal(eventSubject({ type: EventTypes.BulkTaskTick, subject: 'nightly email' }), 'idm.bulk-task.tick.nightly~20email');
  });

  it('every type has three tokens and is captured by exactly one stream subject, never the command prefix', () => {
    for (const type of ALL_EVENT_TYPES) {
      assert.equal(type.split('.').length, 3, type);
      const captured = STREAM_SUBJECTS.filter((s) => type.startsWith(s.slice(0, -1)));
      assert.equal(captured.length, 1, type);
      assert.ok(!type.startsWith(`${COMMAND_PREFIX}.`), type);
    }
  });

  it('filters: by type, and by key across every type', () => {
    assert.equal(typeFilter(EventTypes.EmailSent), 'idm.email.sent.*');
    assert.equal(keyFilter('u1001'), 'idm.*.*.u1001');
    assert.equal(keyFilter('jane.doe'), 'idm.*.*.jane~2Edoe');
  });

  describe('parseEventSubject', () => {
    it('returns the type and the decoded key', () => {
      assert.deepEqual(parseEventSubject('idm.user.added.u1001'), { type: 'idm.user.added', key: 'u1001' });
      assert.deepEqual(parseEventSubject(subjectFor(EventTypes.PasswordSyncFailed, 'jane.doe@example.com')), {
        type: 'idm.password.sync-failed',
        key: 'jane.doe@example.com',
      });
      assert.deepEqual(parseEventSubject('idm.bulk-task.tick.~F0~9F~98~80'), { type: 'idm.bulk-task.tick', key: '😀' });
    });

    for (const subject of [
      'idm.user.added',
      'idm.user.added.a.b',
      'idm.user.deleted.u1',
      'idm.cmd.password.change',
      'other.user.added.u1',
      'idm.user.added.~41',
    ]) {
      it(`returns undefined for ${subject}`, () => {
        assert.equal(parseEventSubject(subject), undefined);
      });
    }
  });
});
