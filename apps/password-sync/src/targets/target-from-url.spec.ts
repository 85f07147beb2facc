import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LdapPasswordTarget } from './ldap-password-target.js';
import { PasswordTargetConfigError, targetFromUrl, type PasswordTargetConfig } from './target-from-url.js';

const base: PasswordTargetConfig = { PASSWORD_TARGET: 'ldap://dir.example.com:389', PASSWORD_TARGET_USER_ATTRIBUTE: 'uid', PASSWORD_TARGET_TIMEOUT_MS: 1000 };

describe('targetFromUrl', () => {
  it('builds an LDAP target for ldap:// with all settings', () => {
    const t = targetFromUrl({ ...base, PASSWORD_TARGET_BIND_DN: 'cn=svc', PASSWORD_TARGET_BIND_PASSWORD: 'Bind-Secret-1', PASSWORD_TARGET_BASE_DN: 'ou=people' });
    assert.ok(t instanceof LdapPasswordTarget);
    assert.equal(t.describe(), 'ldap://dir.example.com:389');
  });

  it('names every missing LDAP setting, never the bind password', () => {
    assert.throws(
      () => targetFromUrl({ ...base, PASSWORD_TARGET_BIND_PASSWORD: 'Bind-Secret-1' }),
      (err: unknown) =>
        err instanceof PasswordTargetConfigError &&
        /PASSWORD_TARGET_BIND_DN, PASSWORD_TARGET_BASE_DN/.test(err.message) &&
        !err.message.includes('Bind-Secret-1'),
    );
  });

  it('needs a NATS connection for nats:<subject>', () => {
    assert.throws(() => targetFromUrl({ ...base, PASSWORD_TARGET: 'nats:connector.password' }), PasswordTargetConfigError);
  });

  it('refuses other schemes', () => {
    assert.throws(() => targetFromUrl({ ...base, PASSWORD_TARGET: 'http://x' }), /must be ldap:\/\/, ldaps:\/\/ or nats:/);
  });
});
