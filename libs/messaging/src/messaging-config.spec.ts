import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nkeys } from '@nats-io/nats-core';
import { ConfigError } from '@idm/config';
import { messagingConfigFromEnv } from './messaging-config.js';
import { natsConnectOptions } from './nats-connection.js';

describe('messaging configuration: authentication, inbox prefix and TLS', () => {
  it('reads the nkey seed file, inbox prefix and TLS files into the connection', () => {
    const c = messagingConfigFromEnv('notifier', {
      NATS_URL: 'tls://nats.example:4222',
      NATS_NKEY_SEED_FILE: '/run/secrets/notifier.nk',
      NATS_INBOX_PREFIX: '_INBOX.notifier',
      NATS_TLS_CA_FILE: '/etc/idm/ca.pem',
      NATS_TLS_CERT_FILE: '/etc/idm/notifier.pem',
      NATS_TLS_KEY_FILE: '/etc/idm/notifier.key',
    }).connection;
    assert.equal(c.nkeySeedFile, '/run/secrets/notifier.nk');
    assert.equal(c.inboxPrefix, '_INBOX.notifier');
    assert.deepEqual(c.tls, { caFile: '/etc/idm/ca.pem', certFile: '/etc/idm/notifier.pem', keyFile: '/etc/idm/notifier.key' });
  });

  it('a certificate without its key (or the reverse) and two ways to authenticate are refused at once, naming the variables', () => {
    assert.throws(
      () =>
        messagingConfigFromEnv('cli', {
          NATS_TLS_CERT_FILE: '/c.pem',
          NATS_USER: 'u',
          NATS_PASSWORD: 'secret-pw',
          NATS_NKEY_SEED_FILE: '/s.nk',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 2);
        assert.match(err.message, /NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE/);
        assert.match(err.message, /NATS_USER, NATS_NKEY_SEED_FILE: choose one/);
        assert.doesNotMatch(err.message, /secret-pw/);
        return true;
      },
    );
  });

  it('an inbox prefix with wildcards is refused', () => {
    assert.throws(() => messagingConfigFromEnv('cli', { NATS_INBOX_PREFIX: '_INBOX.*' }), /NATS_INBOX_PREFIX/);
  });

  it('no error objects are built ahead of requests that may never fail (noAsyncTraces)', () => {
    assert.equal(natsConnectOptions({ url: 'nats://a:4222', name: 'x' }).noAsyncTraces, true);
  });

  it('TLS is on for tls:// URLs or any TLS file, off otherwise; the inbox prefix is passed on', () => {
    assert.equal(natsConnectOptions({ url: 'nats://a:4222', name: 'x' }).tls, undefined);
    assert.deepEqual(natsConnectOptions({ url: 'tls://a:4222', name: 'x' }).tls, {});
    assert.deepEqual(natsConnectOptions({ url: 'nats://a:4222', name: 'x', tls: { caFile: '/ca.pem' } }).tls, { caFile: '/ca.pem' });
    assert.equal(natsConnectOptions({ url: 'nats://a:4222', name: 'x', inboxPrefix: '_INBOX.admin' }).inboxPrefix, '_INBOX.admin');
  });

  it('an nkey seed file becomes an authenticator; a missing file names the variable, never a seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idm-nkey-'));
    try {
      const seed = new TextDecoder().decode(nkeys.createUser().getSeed());
      const seedFile = join(dir, 'admin.nk');
      writeFileSync(seedFile, seed + '\n');
      assert.equal(typeof natsConnectOptions({ url: 'nats://a:4222', name: 'x', nkeySeedFile: seedFile }).authenticator, 'function');
      assert.throws(
        () => natsConnectOptions({ url: 'nats://a:4222', name: 'x', nkeySeedFile: join(dir, 'missing.nk') }),
        (err: unknown) =>
          err instanceof ConfigError && /NATS_NKEY_SEED_FILE: cannot read the file .*missing\.nk \(ENOENT\)/.test(err.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
