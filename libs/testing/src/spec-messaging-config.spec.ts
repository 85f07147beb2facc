import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { specMessagingConfig } from './spec-messaging-config.js';

describe('specMessagingConfig', () => {
  it("gives the spec's stream on the spec's server, five deliveries, from the start; concurrency and ack wait as asked", () => {
    assert.deepEqual(specMessagingConfig({ url: 'nats://127.0.0.1:1', stream: 'S', name: 'spec' }), {
      connection: { url: 'nats://127.0.0.1:1', name: 'spec' },
      stream: { name: 'S' },
      maxDeliver: 5,
      ackWaitMs: 10_000,
      concurrency: 4,
      deliverPolicy: 'all',
    });
    const tuned = specMessagingConfig({ url: 'nats://127.0.0.1:1', stream: 'S', name: 'spec', concurrency: 2, ackWaitMs: 30_000 });
    assert.deepEqual([tuned.concurrency, tuned.ackWaitMs], [2, 30_000]);
  });
});
