import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAppMetrics } from './metrics.js';
import { startAppHealth } from './start-app-health.js';

describe('startAppHealth', () => {
  it('starts no server when HEALTH_PORT is off (null port)', async () => {
    const server = await startAppHealth({ metrics: createAppMetrics('spec'), port: null, logger: console }, [
      { name: 'never', check: () => assert.fail('no server, so no check runs') },
    ]);
    assert.equal(server, null);
  });
});
