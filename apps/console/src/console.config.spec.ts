import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@idm/config';
import { readConsoleConfig, isLoopback } from './console.config.js';

describe('readConsoleConfig', () => {
  it('defaults: loopback, port 9110, no token, actions off', () => {
    const c = readConsoleConfig({});
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 9110);
    assert.equal(c.token, undefined);
    assert.equal(c.allowActions, false);
    assert.match(c.publicDir, /apps[/\\]console[/\\]public$/);
  });
  it('refuses to listen beyond loopback without a token', () => {
    assert.throws(
      () => readConsoleConfig({ CONSOLE_HOST: '0.0.0.0' }),
      (err: unknown) => err instanceof ConfigError && /CONSOLE_TOKEN/.test(err.message),
    );
  });
  it('refuses a short token and a bad actions switch, naming both', () => {
    assert.throws(
      () => readConsoleConfig({ CONSOLE_TOKEN: 'short', CONSOLE_ALLOW_ACTIONS: 'yes' }),
      (err: unknown) => err instanceof ConfigError && /CONSOLE_TOKEN/.test(err.message) && /CONSOLE_ALLOW_ACTIONS/.test(err.message),
    );
  });
  it('takes a token, a public host and actions on', () => {
    const c = readConsoleConfig({ CONSOLE_HOST: '0.0.0.0', CONSOLE_TOKEN: 'x'.repeat(24), CONSOLE_ALLOW_ACTIONS: 'true' });
    assert.equal(c.allowActions, true);
    assert.equal(c.token, 'x'.repeat(24));
  });
});

describe('isLoopback', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(isLoopback(h), true, h);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'console.example.com']) assert.equal(isLoopback(h), false, h);
  });
});
