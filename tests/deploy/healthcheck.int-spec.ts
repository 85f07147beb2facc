import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@idm/testing';
import { REPO_ROOT } from './repo-root.js';

/**
 * Runs the image's HEALTHCHECK script as Docker would, with the given HEALTH_PORT, and resolves with
 * its exit code. Asynchronous: the server under test lives in this process's event loop.
 */
function healthcheck(healthPort: string | undefined): Promise<number | null> {
  const env = { ...process.env };
  delete env['HEALTH_PORT'];
  if (healthPort !== undefined) env['HEALTH_PORT'] = healthPort;
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts/healthcheck.mjs')], { env, stdio: 'ignore', timeout: 10_000 });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('the container HEALTHCHECK script (scripts/healthcheck.mjs)', () => {
  let server: Server;
  let port: number;
  let status = 200;
  before(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/health/live' ? status : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is healthy when the app answers /health/live on HEALTH_PORT', async () => {
    status = 200;
    assert.equal(await healthcheck(String(port)), 0);
  });
  it('is unhealthy when /health/live fails or nothing listens', async () => {
    status = 503;
    assert.equal(await healthcheck(String(port)), 1);
    assert.equal(await healthcheck(String(await freePort())), 1);
  });
  it('has nothing to check when the app serves no health endpoint (HEALTH_PORT=off)', async () => {
    assert.equal(await healthcheck('off'), 0);
  });
});
