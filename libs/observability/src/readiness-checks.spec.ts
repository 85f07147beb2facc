import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readinessChecks } from './readiness-checks.js';

describe('readinessChecks', () => {
  it('nats: passes while the connection is open, fails once it is closed', async () => {
    let closed = false;
    const check = readinessChecks.nats({ isClosed: () => closed });
    assert.equal(check.name, 'nats');
    await check.check();
    closed = true;
    await assert.rejects(async () => check.check(), /NATS connection closed/);
  });

  it('consumers: fails while the transport is not pulling', async () => {
    let ready = false;
    const check = readinessChecks.consumers({ isReady: () => ready });
    await assert.rejects(async () => check.check(), /consumers not pulling/);
    ready = true;
    await check.check();
  });

  it("database: asks the app's own database `SELECT 1`, and fails with its error", async () => {
    const asked: string[] = [];
    const ok = readinessChecks.database({ query: async (sql) => void asked.push(sql) });
    await ok.check();
    assert.deepEqual(asked, ['SELECT 1']);
    const down = readinessChecks.database({ query: () => Promise.reject(new Error('connection refused')) });
    await assert.rejects(async () => down.check(), /connection refused/);
  });
});
