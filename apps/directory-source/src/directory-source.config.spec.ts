import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@idm/config';
import { readDirectorySourceConfig } from './directory-source.config.js';

const minimal = {
  SOURCE_URL: 'ldaps://dc1.example.com:636',
  SOURCE_BIND_DN: 'CN=idm-source,OU=Services,DC=example,DC=com',
  SOURCE_BIND_PASSWORD: 'S3cret-Bind-Pw',
  SOURCE_BASE_DN: 'OU=People,DC=example,DC=com',
};

function problems(env: NodeJS.ProcessEnv): string {
  try {
    readDirectorySourceConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('directory-source configuration', () => {
  it('defaults: auto dialect, 60 s interval, daily full scan, baseline, mail / displayName, the dialect filter', () => {
    const s = readDirectorySourceConfig(minimal);
    assert.equal(s.intervalMs, 60_000);
    assert.equal(s.poll.fullScanCron, '0 3 * * *');
    assert.equal(s.poll.initialSync, 'baseline');
    assert.equal(s.ldap.dialect, 'auto');
    assert.equal(s.ldap.userFilter('active-directory'), '(&(objectCategory=person)(objectClass=user))');
    assert.equal(s.ldap.userFilter('openldap'), '(objectClass=inetOrgPerson)');
    assert.equal(s.poll.mapping.userIdAttribute, undefined, 'auto: the id attribute follows the dialect found');
    assert.deepEqual(s.poll.mapping.reportedAttributes, ['givenName', 'sn', 'title', 'telephoneNumber']);
    // Both dialects' id attributes are requested while the dialect is unknown.
    for (const a of ['uid', 'sAMAccountName', 'mail', 'displayName', 'title']) assert.ok(s.ldap.attributes.includes(a), a);
    assert.equal(s.unreadyAfterFailures, 3);
  });

  it('explicit settings win: dialect, id attribute, filter, attributes, interval shared with password-sync', () => {
    const s = readDirectorySourceConfig({
      ...minimal,
      SOURCE_DIALECT: 'openldap',
      SOURCE_USER_ID_ATTRIBUTE: 'employeeNumber',
      SOURCE_USER_FILTER: '(&(objectClass=inetOrgPerson)(employeeType=staff))',
      SOURCE_ATTRIBUTES: ' title , departmentNumber ',
      SOURCE_POLLING_INTERVAL_SECONDS: '2.5',
      SOURCE_INITIAL_SYNC: 'emit',
    });
    assert.equal(s.poll.mapping.userIdAttribute, 'employeeNumber');
    assert.equal(s.ldap.userFilter('openldap'), '(&(objectClass=inetOrgPerson)(employeeType=staff))');
    assert.deepEqual(s.poll.mapping.reportedAttributes, ['title', 'departmentNumber']);
    assert.equal(s.intervalMs, 2_500);
    assert.equal(s.poll.initialSync, 'emit');
  });

  it('names every faulty variable at once and never echoes the bind password', () => {
    const message = problems({
      ...minimal,
      SOURCE_URL: 'http://dc1',
      SOURCE_DIALECT: 'novell',
      SOURCE_ATTRIBUTES: 'title,not an attribute',
      SOURCE_POLLING_INTERVAL_SECONDS: '0',
    });
    for (const name of ['SOURCE_URL', 'SOURCE_DIALECT', 'SOURCE_ATTRIBUTES', 'SOURCE_POLLING_INTERVAL_SECONDS'])
      assert.match(message, new RegExp(name));
    assert.doesNotMatch(message, /S3cret-Bind-Pw/);
    assert.match(
      problems({ SOURCE_URL: minimal.SOURCE_URL }),
      /SOURCE_BIND_DN[\s\S]*SOURCE_BIND_PASSWORD|SOURCE_BIND_PASSWORD[\s\S]*SOURCE_BIND_DN/,
    );
  });

  it('refuses a cron that does not parse, and StartTLS on an ldaps:// URL', () => {
    assert.match(problems({ ...minimal, SOURCE_FULL_SCAN_CRON: 'every night' }), /SOURCE_FULL_SCAN_CRON/);
    assert.match(problems({ ...minimal, SOURCE_STARTTLS: 'true' }), /SOURCE_STARTTLS/);
    assert.equal(readDirectorySourceConfig({ ...minimal, SOURCE_URL: 'ldap://dc1:389', SOURCE_STARTTLS: 'true' }).ldap.startTls, true);
  });
});
