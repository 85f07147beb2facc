import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAppMetrics, settledObserver } from './metrics.js';
import { startHealthServer } from './health-server.js';
import { healthPortFrom } from './health-port.js';

describe('startHealthServer', () => {
  it('answers live, ready (200 then 503 naming the failing check) and metrics', async () => {
    const metrics = createAppMetrics('spec');
    let natsUp = true;
    const server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      checks: [
        {
          name: 'nats',
          check: () => {
            if (!natsUp) throw new Error('connection closed');
          },
        },
        { name: 'database', check: async () => {} },
      ],
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      assert.equal((await fetch(`${base}/health/live`)).status, 200);
      const ready = await fetch(`${base}/health/ready`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as { status: string }).status, 'ok');
      natsUp = false;
      const notReady = await fetch(`${base}/health/ready`);
      assert.equal(notReady.status, 503);
      assert.match(await notReady.text(), /nats/);

      settledObserver(metrics)({ consumer: 'notifier', type: 'idm.user.added', settlement: { action: 'ack' }, durationMs: 12 });
      settledObserver(metrics)({
        consumer: 'notifier',
        type: undefined,
        settlement: { action: 'dead-letter', reason: 'undecodable' },
        durationMs: 1,
      });
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(text, /idm_events_handled_total\{type="idm\.user\.added",consumer="notifier",outcome="ack",app="spec"\} 1/);
      assert.match(text, /idm_dead_letters_total\{consumer="notifier",type="undecodable",reason="undecodable",app="spec"\} 1/);
      assert.match(text, /idm_handler_duration_seconds_bucket/);
    } finally {
      await server.close();
    }
  });
});

describe('healthPortFrom', () => {
  it('uses the default, a number, or off', () => {
    assert.equal(healthPortFrom({}, 9101), 9101);
    assert.equal(healthPortFrom({ HEALTH_PORT: '8080' }, 9101), 8080);
    assert.equal(healthPortFrom({ HEALTH_PORT: 'off' }, 9101), null);
    assert.throws(() => healthPortFrom({ HEALTH_PORT: 'http' }, 9101), { code: 'IDM_HEALTH_PORT_INVALID' });
  });
});
