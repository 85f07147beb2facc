import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appProcessEnv } from './app-process-env.js';

describe('appProcessEnv', () => {
  it("points the apps at the spec's servers and never at the machine's DATABASE_URL", () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://someone@elsewhere/db';
    try {
      const env = appProcessEnv({
        natsUrl: 'nats://127.0.0.1:1',
        stream: 'S',
        dataDir: '/tmp/d',
        smtpUrl: 'smtp://127.0.0.1:2',
        logLevel: 'warn',
      });
      assert.equal(env.DATABASE_URL, undefined);
      assert.deepEqual(
        [env.NATS_URL, env.IDM_STREAM, env.DATA_DIR, env.SMTP_URL, env.LOG_LEVEL, env.HEALTH_PORT, env.NO_COLOR],
        ['nats://127.0.0.1:1', 'S', '/tmp/d', 'smtp://127.0.0.1:2', 'warn', 'off', '1'],
      );
      assert.equal(env.PATH, process.env.PATH, "the test's own environment is kept");
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });
});
