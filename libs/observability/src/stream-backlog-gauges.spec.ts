import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAppMetrics } from './metrics.js';
import { addStreamBacklogGauges, type StreamInfoReader } from './stream-backlog-gauges.js';

describe('addStreamBacklogGauges', () => {
  const sources = { stream: 'IDM', deadLetterStream: 'IDM_DLQ', consumers: ['notifier', 'notifier-tick'] };

  it('reads the dead letters of the dead-letter stream and each consumer’s pending count at scrape time', async () => {
    const asked: string[] = [];
    const jsm: StreamInfoReader = {
      streams: { info: async (stream) => (asked.push(stream), { state: { messages: stream === 'IDM_DLQ' ? 3 : 999 } }) },
      consumers: { info: async (stream, consumer) => ({ num_pending: stream === 'IDM' ? consumer.length : -1 }) },
    };
    const metrics = createAppMetrics('spec');
    addStreamBacklogGauges(metrics, jsm, sources);
    const text = await metrics.registry.metrics();
    assert.deepEqual(asked, ['IDM_DLQ']);
    assert.match(text, /^idm_dead_letter_messages\{app="spec"\} 3$/m);
    assert.match(text, /^idm_consumer_pending_messages\{consumer="notifier",app="spec"\} 8$/m);
    assert.match(text, /^idm_consumer_pending_messages\{consumer="notifier-tick",app="spec"\} 13$/m);
  });

  it('still answers the scrape when NATS does not (readiness reports the outage)', async () => {
    const down = async (): Promise<never> => {
      throw new Error('NATS connection closed');
    };
    const metrics = createAppMetrics('spec');
    addStreamBacklogGauges(metrics, { streams: { info: down }, consumers: { info: down } }, sources);
    assert.match(await metrics.registry.metrics(), /# TYPE idm_dead_letter_messages gauge/);
  });
});
