import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { LdapPasswordTarget } from './ldap-password-target.js';
import { checkTargetConfig, PasswordTargetConfigError, targetFromUrl, type PasswordTargetConfig } from './target-from-url.js';

const base: PasswordTargetConfig = {
  PASSWORD_TARGET: 'ldap://dir.example.com:389',
  PASSWORD_TARGET_USER_ATTRIBUTE: 'uid',
  PASSWORD_TARGET_TIMEOUT_MS: 1000,
};

describe('targetFromUrl', () => {
  it('builds an LDAP target for ldap:// with all settings', () => {
    const t = targetFromUrl({
      ...base,
      PASSWORD_TARGET_BIND_DN: 'cn=svc',
      PASSWORD_TARGET_BIND_PASSWORD: 'Bind-Secret-1',
      PASSWORD_TARGET_BASE_DN: 'ou=people',
    });
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

  it('checks PASSWORD_TARGET_USER_DN_TEMPLATE at start: it must name entries below the base DN', () => {
    const ldap = {
      ...base,
      PASSWORD_TARGET_BIND_DN: 'cn=svc',
      PASSWORD_TARGET_BIND_PASSWORD: 'Bind-Secret-1',
      PASSWORD_TARGET_BASE_DN: 'ou=people,dc=x',
    };
    assert.doesNotThrow(() => checkTargetConfig({ ...ldap, PASSWORD_TARGET_USER_DN_TEMPLATE: 'uid={userId},ou=people,dc=x' }));
    assert.throws(
      () => checkTargetConfig({ ...ldap, PASSWORD_TARGET_USER_DN_TEMPLATE: 'uid={userId},ou=admins,dc=x' }),
      /PASSWORD_TARGET_USER_DN_TEMPLATE names entries outside PASSWORD_TARGET_BASE_DN/,
    );
  });

  it('needs a NATS connection for nats:<subject>', () => {
    assert.throws(() => targetFromUrl({ ...base, PASSWORD_TARGET: 'nats:connector.password' }), PasswordTargetConfigError);
  });

  const ldapSettings = {
    PASSWORD_TARGET_BIND_DN: 'CN=idm-sync,CN=Users,DC=corp',
    PASSWORD_TARGET_BIND_PASSWORD: 'Bind-Secret-1',
    PASSWORD_TARGET_BASE_DN: 'OU=People,DC=corp',
  };

  it('refuses Active Directory over plain LDAP at start, saying why, and accepts ldaps:// or StartTLS', () => {
    assert.throws(
      () => targetFromUrl({ ...base, ...ldapSettings, PASSWORD_TARGET_DIALECT: 'active-directory' }),
      (err: unknown) =>
        err instanceof PasswordTargetConfigError &&
        err.code === 'IDM_PASSWORD_TARGET_INVALID' &&
        /only over an encrypted connection/.test(err.message) &&
        /ldaps:\/\/… or set PASSWORD_TARGET_STARTTLS=true/.test(err.message) &&
        !err.message.includes('Bind-Secret-1'),
    );
    assert.ok(
      targetFromUrl({
        ...base,
        ...ldapSettings,
        PASSWORD_TARGET: 'ldaps://dc.corp:636',
        PASSWORD_TARGET_DIALECT: 'active-directory',
      }) instanceof LdapPasswordTarget,
    );
    assert.ok(
      targetFromUrl({ ...base, ...ldapSettings, PASSWORD_TARGET_DIALECT: 'active-directory', PASSWORD_TARGET_STARTTLS: true }) instanceof
        LdapPasswordTarget,
    );
  });

  it('refuses StartTLS on ldaps://, TLS settings on plain LDAP, and MUST_CHANGE without Active Directory', () => {
    assert.throws(
      () => targetFromUrl({ ...base, ...ldapSettings, PASSWORD_TARGET: 'ldaps://dc.corp', PASSWORD_TARGET_STARTTLS: true }),
      /needs an ldap:\/\/ URL/,
    );
    assert.throws(() => targetFromUrl({ ...base, ...ldapSettings, PASSWORD_TARGET_TLS_SERVER_NAME: 'dc.corp' }), /have no effect on plain/);
    assert.throws(
      () => targetFromUrl({ ...base, ...ldapSettings, PASSWORD_TARGET_MUST_CHANGE: true }),
      /needs the active-directory dialect/,
    );
  });

  it('reads the TLS CA file at start: a missing or non-PEM file is refused', () => {
    const ldaps = { ...base, ...ldapSettings, PASSWORD_TARGET: 'ldaps://dc.corp:636' };
    assert.throws(
      () => targetFromUrl({ ...ldaps, PASSWORD_TARGET_TLS_CA_FILE: '/nonexistent/ca.pem' }),
      /PASSWORD_TARGET_TLS_CA_FILE=\/nonexistent\/ca.pem cannot be read/,
    );
    const notPem = join(tmpdir(), `not-pem-${process.pid}.txt`);
    writeFileSync(notPem, 'hello');
    assert.throws(() => targetFromUrl({ ...ldaps, PASSWORD_TARGET_TLS_CA_FILE: notPem }), /holds no PEM certificate/);
  });

  it('refuses other schemes', () => {
    assert.throws(() => targetFromUrl({ ...base, PASSWORD_TARGET: 'http://x' }), /must be ldap:\/\/, ldaps:\/\/ or nats:/);
  });
});
