import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream, jetstreamManager, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@idm/testing';
import { connectNats } from './nats-connection.js';
import { consumerFilter, ensureConsumer, type ConsumerSpec } from './consumer-provisioning.js';
import { serverFeatures } from './server-features.js';
import { ensureEventStream } from './stream-provisioning.js';

describe('consumerFilter', () => {
  const v29 = { version: '2.9.10', multipleConsumerFilters: false, streamMetadata: false };
  const v210 = { version: '2.10.22', multipleConsumerFilters: true, streamMetadata: true };
  it('uses one filter_subject for one type on any server', () => {
    assert.deepEqual(consumerFilter(['idm.user.added'], v29), { filter_subject: 'idm.user.added.*' });
  });
  it('uses filter_subjects for several types on 2.10+', () => {
    assert.deepEqual(consumerFilter(['idm.user.modified', 'idm.user.added'], v210), {
      filter_subjects: ['idm.user.added.*', 'idm.user.modified.*'],
    });
  });
  it("uses the wildcard of several types' common parent on 2.9", () => {
    assert.deepEqual(consumerFilter(['idm.user.modified', 'idm.user.added', 'idm.user.removed'], v29), { filter_subject: 'idm.user.>' });
  });
  it('uses no filter on 2.9 for several types whose only common parent is the whole stream', () => {
    assert.deepEqual(consumerFilter(['idm.user.added', 'idm.password.changed'], v29), {});
  });
});

describe('ensureConsumer against a real nats-server', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  before(async () => {
    server = await startNatsServer();
    nc = await connectNats({ url: server.url, name: 'spec' });
    jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, { name: 'C' });
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });
  const spec = (types: string[], ackWaitMs = 5_000): ConsumerSpec => ({
    stream: 'C',
    name: 'c',
    types,
    ackWaitMs,
    maxAckPending: 100,
    deliverPolicy: 'all',
  });

  it('is idempotent and updates what it owns', async () => {
    const a = await ensureConsumer(jsm, spec(['idm.user.added']), serverFeatures(nc));
    const b = await ensureConsumer(jsm, spec(['idm.user.added']), serverFeatures(nc));
    assert.equal(a.created, b.created);
    const c = await ensureConsumer(jsm, spec(['idm.user.added'], 9_000), serverFeatures(nc));
    assert.equal(c.config.ack_wait, 9_000 * 1e6);
  });

  it('changes its filter without skipping events, even where the server cannot update filters in place', async () => {
    const js = jetstream(nc);
    for (let i = 1; i <= 4; i++) await js.publish(`idm.user.added.u${i}`, '{}');
    const consumer = await js.consumers.get('C', 'c');
    for (let i = 0; i < 2; i++) (await consumer.next())?.ack();
    await nc.flush();
    const info = await ensureConsumer(jsm, spec(['idm.user.modified', 'idm.user.added']), serverFeatures(nc));
    const wanted = consumerFilter(['idm.user.added', 'idm.user.modified'], serverFeatures(nc));
    assert.equal(info.config.filter_subject ?? undefined, wanted.filter_subject);
    await js.publish('idm.user.modified.u1', '{}');
    const rest: string[] = [];
    const again = await js.consumers.get('C', 'c');
    for (let i = 0; i < 3; i++) {
      const m = await again.next({ expires: 2_000 });
      if (!m) break;
      rest.push(m.subject);
      m.ack();
    }
    assert.deepEqual(rest, ['idm.user.added.u3', 'idm.user.added.u4', 'idm.user.modified.u1']);
  });

  it('sends only the filter it owns when its types change, not the one the consumer had', async () => {
    const name = 'widened';
    const sent: Array<Partial<ConsumerConfig>> = [];
    // Copies of the create/update requests the client sends for this consumer, as the server gets them.
    for (const subject of [`CREATE.C.${name}`, `CREATE.C.${name}.>`, `DURABLE.CREATE.C.${name}`]) {
      nc.subscribe(`$JS.API.CONSUMER.${subject}`, {
        callback: (_err, msg) => {
          sent.push(msg.json<{ config: ConsumerConfig }>().config);
        },
      });
    }
    await nc.flush();
    await ensureConsumer(jsm, { ...spec(['idm.user.added']), name }, serverFeatures(nc));
    sent.length = 0;
    // Types sharing only `idm.`: filter_subjects on 2.10+ (which refuses it next to a
    // filter_subject), no filter on 2.9. Either way the old filter_subject must not travel along.
    const types = ['idm.user.added', 'idm.bulk-task.tick'];
    const info = await ensureConsumer(jsm, { ...spec(types), name }, serverFeatures(nc));
    await nc.flush();
    const wanted = consumerFilter(types, serverFeatures(nc));
    assert.ok(sent.length > 0, 'the update was seen');
    for (const config of sent) assert.deepEqual(filterOf(config), wanted);
    assert.deepEqual(filterOf(info.config), wanted);
  });
});

/** The filter keys a consumer config sets, leaving out those it does not. */
function filterOf(config: Partial<ConsumerConfig>): Pick<ConsumerConfig, 'filter_subject' | 'filter_subjects'> {
  const { filter_subject, filter_subjects } = config;
  return {
    ...(filter_subject ? { filter_subject } : {}),
    ...(filter_subjects?.length ? { filter_subjects } : {}),
  };
}
