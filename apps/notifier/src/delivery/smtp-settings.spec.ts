import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@idm/config';
import { readNotifierConfig } from '../notifier.config.js';
import { connectionShares } from './smtp-worker-protocol.js';
import { messageIdFor, parseMailFrom, parseSender, parseSmtpUrl, SmtpConfigError } from './smtp-settings.js';

describe('SMTP settings', () => {
  it('parses smtp:// and smtps:// with percent-encoded credentials and default ports', () => {
    assert.deepEqual(parseSmtpUrl('smtp://mailer:p%40ss%3Aw@mail.example:2525'), {
      host: 'mail.example',
      port: 2525,
      secure: false,
      auth: { user: 'mailer', pass: 'p@ss:w' },
      safeUrl: 'smtp://mailer:***@mail.example:2525',
    });
    assert.deepEqual(parseSmtpUrl('smtps://mail.example'), {
      host: 'mail.example',
      port: 465,
      secure: true,
      safeUrl: 'smtps://mail.example',
    });
    assert.equal(parseSmtpUrl('smtp://mail.example').port, 587);
  });

  it('rejects other schemes and junk without echoing the password', () => {
    for (const bad of ['http://u:Hunter2@mail.example', 'smtp://u:Hunter2@mail.example/path', 'not a url Hunter2']) {
      assert.throws(
        () => parseSmtpUrl(bad),
        (e: unknown) => e instanceof SmtpConfigError && e.code === 'IDM_NOTIFIER_SMTP_CONFIG_INVALID' && !e.message.includes('Hunter2'),
      );
    }
  });

  it('accepts MAIL_FROM as an address or "Name <address>" and derives stable Message-IDs from it', () => {
    assert.equal(parseMailFrom('noreply@idm.example'), 'noreply@idm.example');
    assert.equal(parseMailFrom('IDM Service <noreply@idm.example>'), 'noreply@idm.example');
    assert.throws(() => parseMailFrom('IDM Service'), SmtpConfigError);
    assert.equal(messageIdFor('q-1', 'IDM <noreply@idm.example>'), '<q-1@idm.example>');
  });

  it('splits MAIL_FROM into display name and address once, for the transport', () => {
    assert.deepEqual(parseSender('IDM Service <noreply@idm.example>'), { name: 'IDM Service', address: 'noreply@idm.example' });
    assert.deepEqual(parseSender('"IDM, dev" <noreply@idm.example>'), { name: 'IDM, dev', address: 'noreply@idm.example' });
    assert.deepEqual(parseSender(' noreply@idm.example '), { name: '', address: 'noreply@idm.example' });
    assert.throws(() => parseSender('<>'), SmtpConfigError);
  });

  it('the notifier config has safe defaults and needs SMTP_URL and MAIL_FROM', () => {
    const config = readNotifierConfig({ SMTP_URL: 'smtp://u:Hunter2@mail.example:25', MAIL_FROM: 'noreply@idm.example' });
    assert.equal(config.smtp.rejectUnauthorized, true);
    assert.equal(config.smtp.maxConnections, 8);
    assert.equal(config.sendConcurrency, 8);
    assert.deepEqual(config.limits, { maxAttempts: 50, maxAgeMs: 72 * 3_600_000 });
    assert.equal(config.retryTask, 'RetryEmailNotifications');
    assert.equal(
      readNotifierConfig({ SMTP_URL: 'smtp://mail.example', MAIL_FROM: 'a@b.example', SMTP_TLS_REJECT_UNAUTHORIZED: 'false' }).smtp
        .rejectUnauthorized,
      false,
    );
    assert.throws(
      () => readNotifierConfig({}),
      (e: unknown) => e instanceof ConfigError && /SMTP_URL/.test(e.message) && /MAIL_FROM/.test(e.message),
    );
    assert.throws(
      () => readNotifierConfig({ SMTP_URL: 'smtp://mail.example', MAIL_FROM: 'a@b.example', SMTP_TLS_REJECT_UNAUTHORIZED: 'no' }),
      ConfigError,
    );
  });

  it('sends as many emails at once as the pool has connections unless EMAIL_SEND_CONCURRENCY says otherwise', () => {
    const base = { SMTP_URL: 'smtp://mail.example', MAIL_FROM: 'a@b.example', SMTP_MAX_CONNECTIONS: '16' };
    assert.equal(readNotifierConfig(base).sendConcurrency, 16);
    assert.equal(readNotifierConfig({ ...base, EMAIL_SEND_CONCURRENCY: '4' }).sendConcurrency, 4);
  });

  it('sends on the main thread unless SMTP_WORKERS names worker threads (at most 16)', () => {
    const base = { SMTP_URL: 'smtp://mail.example', MAIL_FROM: 'a@b.example' };
    assert.equal(readNotifierConfig(base).smtpWorkers, 0);
    assert.equal(readNotifierConfig({ ...base, SMTP_WORKERS: '2' }).smtpWorkers, 2);
    assert.equal(readNotifierConfig({ ...base, SMTP_WORKERS: '0' }).smtpWorkers, 0);
    for (const bad of ['-1', '17', '1.5', 'two'])
      assert.throws(
        () => readNotifierConfig({ ...base, SMTP_WORKERS: bad }),
        (e: unknown) => e instanceof ConfigError && /SMTP_WORKERS/.test(e.message),
      );
  });

  it('splits the pool connections evenly over the worker threads, never a thread without one', () => {
    assert.deepEqual(connectionShares(32, 2), [16, 16]);
    assert.deepEqual(connectionShares(8, 3), [3, 3, 2]);
    assert.deepEqual(connectionShares(2, 4), [1, 1]);
    assert.deepEqual(connectionShares(5, 1), [5]);
  });
});
