import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAppMetrics } from './metrics.js';
import { startConsumerAppHealth, type ConsumerAppParts } from './consumer-app-health.js';

describe('startConsumerAppHealth', () => {
  const parts: ConsumerAppParts = {
    nc: { isClosed: () => false },
    jsm: {
      streams: { info: async () => ({ state: { messages: 2 } }) },
      consumers: { info: async () => ({ num_pending: 5 }) },
    },
    transport: { isReady: () => true },
    dataSource: { query: async () => [] },
  };

  it('registers the backlog gauges even when HEALTH_PORT is off, and starts no server then', async () => {
    const metrics = createAppMetrics('spec');
    const server = await startConsumerAppHealth({ metrics, port: null, logger: console }, parts, {
      stream: 'IDM',
      deadLetterStream: 'IDM_DLQ',
      consumers: ['notifier'],
    });
    assert.equal(server, null);
    const text = await metrics.registry.metrics();
    assert.match(text, /^idm_dead_letter_messages\{app="spec"\} 2$/m);
    assert.match(text, /^idm_consumer_pending_messages\{consumer="notifier",app="spec"\} 5$/m);
  });
});
