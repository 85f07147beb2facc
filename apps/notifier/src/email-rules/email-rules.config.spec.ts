import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_EMAIL_RULES, EmailRulesError, emailTypesFor, emailTypesOf, loadEmailRules } from './email-rules.config.js';

describe('email rules', () => {
  it('without overrides, the issue’s defaults apply', () => {
    assert.deepEqual(loadEmailRules({}), {
      'idm.user.added': ['NEW_USER'],
      'idm.user.modified': ['PROFILE_CHANGED'],
      'idm.password.changed': ['PASSWORD_CHANGED'],
      'idm.password.sync-failed': ['PASSWORD_SYNC_FAILED'],
    });
    assert.deepEqual(emailTypesOf(DEFAULT_EMAIL_RULES), ['NEW_USER', 'PASSWORD_CHANGED', 'PASSWORD_SYNC_FAILED', 'PROFILE_CHANGED']);
  });

  it('EMAIL_RULES replaces the named events only; names or types, one or several, [] or null switches off', () => {
    const rules = loadEmailRules({
      EMAIL_RULES: JSON.stringify({
        UserModified: [],
        'idm.password.expired': 'PASSWORD_EXPIRED',
        UserAdded: ['NEW_USER', 'WELCOME'],
        PasswordChanged: null,
      }),
    });
    assert.deepEqual(emailTypesFor(rules, 'idm.user.modified'), []);
    assert.deepEqual(emailTypesFor(rules, 'idm.password.changed'), []);
    assert.deepEqual(emailTypesFor(rules, 'idm.password.expired'), ['PASSWORD_EXPIRED']);
    assert.deepEqual(emailTypesFor(rules, 'idm.user.added'), ['NEW_USER', 'WELCOME']);
    assert.deepEqual(emailTypesFor(rules, 'idm.password.sync-failed'), ['PASSWORD_SYNC_FAILED']);
  });

  it('EMAIL_RULES_FILE is read as YAML or JSON', () => {
    const rules = loadEmailRules({ EMAIL_RULES_FILE: '/etc/idm/rules.yaml' }, (path) => {
      assert.equal(path, '/etc/idm/rules.yaml');
      return 'PasswordExpired: PASSWORD_EXPIRED\nUserModified: []\n';
    });
    assert.deepEqual(emailTypesFor(rules, 'idm.password.expired'), ['PASSWORD_EXPIRED']);
    assert.deepEqual(emailTypesFor(rules, 'idm.user.modified'), []);
  });

  it('rejects unusable overrides at start, naming every bad entry', () => {
    assert.throws(() => loadEmailRules({ EMAIL_RULES: '{', EMAIL_RULES_FILE: 'x' }), /not both/);
    assert.throws(
      () => loadEmailRules({ EMAIL_RULES: '{' }),
      (e: unknown) => e instanceof EmailRulesError && /not JSON/.test(e.message),
    );
    assert.throws(() => loadEmailRules({ EMAIL_RULES: '["NEW_USER"]' }), EmailRulesError);
    assert.throws(
      () =>
        loadEmailRules({ EMAIL_RULES: JSON.stringify({ EmailSent: 'X', BulkTaskTick: 'Y', UserAdded: 'new-user', PasswordChanged: 3 }) }),
      (e: unknown) =>
        e instanceof EmailRulesError &&
        e.code === 'IDM_NOTIFIER_EMAIL_RULES_INVALID' &&
        /EmailSent/.test(e.message) &&
        /BulkTaskTick/.test(e.message) &&
        /new-user/.test(e.message) &&
        /PasswordChanged/.test(e.message),
    );
    assert.throws(
      () =>
        loadEmailRules({ EMAIL_RULES_FILE: '/missing' }, () => {
          throw new Error('ENOENT');
        }),
      /cannot be read/,
    );
  });

  it('events without a rule raise nothing', () => {
    assert.deepEqual(emailTypesFor(DEFAULT_EMAIL_RULES, 'idm.bulk-task.tick'), []);
    assert.deepEqual(emailTypesFor(DEFAULT_EMAIL_RULES, 'idm.password.synced'), []);
  });
});
