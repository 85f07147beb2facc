import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, readEnv } from './env.js';
import { commonEnv } from './common-env.js';

describe('readEnv', () => {
  it('applies defaults and treats empty strings as unset', () => {
    const env = readEnv(commonEnv, { NATS_URL: '', LOG_LEVEL: 'debug' });
    assert.equal(env.NATS_URL, 'nats://127.0.0.1:4222');
    assert.equal(env.IDM_STREAM, 'IDM_EVENTS');
    assert.equal(env.DATA_DIR, './.data');
    assert.equal(env.LOG_LEVEL, 'debug');
    assert.equal(env.DATABASE_URL, undefined);
  });

  it('names every bad variable at once', () => {
    assert.throws(
      () => readEnv(commonEnv, { LOG_LEVEL: 'loud', IDM_STREAM: 'bad.name', DATABASE_URL: 'mysql://x' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'IDM_CONFIG_INVALID');
        assert.equal(err.problems.length, 3);
        assert.match(err.message, /LOG_LEVEL/);
        assert.match(err.message, /IDM_STREAM/);
        assert.match(err.message, /DATABASE_URL/);
        return true;
      },
    );
  });

  it('never echoes a secret or URL credentials in the error', () => {
    const shape = { SMTP_PASSWORD: z.string().min(50), DATABASE_URL: commonEnv.DATABASE_URL };
    assert.throws(
      () => readEnv(shape, { SMTP_PASSWORD: 'hunter2', DATABASE_URL: 'mysql://admin:s3cr3t@db/x' }),
      (err: unknown) => {
        const text = String((err as Error).message);
        assert.doesNotMatch(text, /hunter2/);
        assert.doesNotMatch(text, /s3cr3t/);
        return true;
      },
    );
  });
});
