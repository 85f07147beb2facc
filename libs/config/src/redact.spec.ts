import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorMessage } from './error-message.js';
import { isSecretField, isSecretVariable, REDACTED, redactConnectionString, redactFields, redactSecrets, redactUrls } from './redact.js';

describe('redactUrls', () => {
  it('keeps the user and hides the password, or hides a bare token', () => {
    assert.equal(redactUrls('nats://svc:pw@nats:4222'), 'nats://svc:***@nats:4222');
    assert.equal(redactUrls('postgres://idm:p%40ss@db/idm'), 'postgres://idm:***@db/idm');
    assert.equal(redactUrls('nats://s3cr3ttoken@nats:4222'), 'nats://***@nats:4222');
    assert.equal(redactUrls('smtp://mail.example.com:25'), 'smtp://mail.example.com:25');
  });

  it('hides every URL of a free text', () => {
    assert.equal(redactUrls('a ldap://cn:x@h and smtps://u:y@m failed'), 'a ldap://cn:***@h and smtps://u:***@m failed');
  });
});

describe('redactConnectionString', () => {
  it('hides the password and keeps the rest', () => {
    assert.equal(redactConnectionString('postgres://idm:s3cr%40t@db:5432/idm'), 'postgres://idm:***@db:5432/idm');
    assert.equal(redactConnectionString('postgres://idm@db/idm'), 'postgres://idm@db/idm');
    assert.equal(redactConnectionString('postgres://db/idm?password=x&sslmode=require'), 'postgres://db/idm?password=***&sslmode=require');
  });

  it('reduces an unparseable string to its scheme', () => {
    assert.equal(redactConnectionString('postgres://us er:pw@@'), 'postgres://<unparseable, redacted>');
  });
});

describe('redactSecrets', () => {
  it('removes each secret, raw, percent-encoded and percent-decoded', () => {
    assert.equal(redactSecrets('login p@ss and p%40ss failed', ['p@ss']), 'login *** and *** failed');
    assert.equal(redactSecrets('bind with s3cr@t refused', ['s3cr%40t']), 'bind with *** refused');
    assert.equal(redactSecrets('password too short: Hunter2', [Buffer.from('Hunter2')]), 'password too short: ***');
  });

  it('ignores empty secrets and leaves other text alone', () => {
    assert.equal(redactSecrets('nothing to hide', ['', 'absent']), 'nothing to hide');
  });
});

describe('redactFields', () => {
  it('replaces secret-named fields at any depth, never showing their length', () => {
    const out = redactFields({ data: { userId: 'u-1', password: 'hunter2', nested: [{ ciphertext: 'abc', apiToken: 't' }] }, key: 'k' });
    assert.deepEqual(out, {
      data: { userId: 'u-1', password: REDACTED, nested: [{ ciphertext: REDACTED, apiToken: REDACTED }] },
      key: REDACTED,
    });
  });

  it('tells secret field names and secret variable names apart from ordinary ones', () => {
    assert.deepEqual(['password', 'bindPassword', 'sealed_key', 'authorization', 'userId', 'keyId'].map(isSecretField), [
      true,
      true,
      true,
      true,
      false,
      true,
    ]);
    assert.deepEqual(['PASSWORD_CACHE_KEY', 'NATS_CREDS', 'CONSOLE_TOKEN', 'SMTP_URL', 'LOG_LEVEL'].map(isSecretVariable), [
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});

describe('errorMessage', () => {
  it('reads the message of anything thrown, without its stack', () => {
    assert.equal(errorMessage(new TypeError('bad')), 'bad');
    assert.equal(errorMessage('plain'), 'plain');
    assert.equal(errorMessage({ code: 42 }), '{"code":42}');
    assert.equal(errorMessage(undefined), 'undefined');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.equal(errorMessage(cyclic), '[object Object]');
  });
});
