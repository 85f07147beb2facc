import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, anEvent, type NatsServerHandle } from '@idm/testing';
import { connectNats } from './nats-connection.js';
import { EventPublisher } from './event-publisher.js';
import { ensureEventStream } from './stream-provisioning.js';
import { readStreamInBatches, subjectMatches } from './stream-batches.js';

describe('subjectMatches', () => {
  it('follows NATS wildcards', () => {
    assert.equal(subjectMatches('idm.user.>', 'idm.user.added.u1'), true);
    assert.equal(subjectMatches('idm.*.*.u1', 'idm.email.sent.u1'), true);
    assert.equal(subjectMatches('idm.*.*.u1', 'idm.email.sent.u2'), false);
    assert.equal(subjectMatches('idm.user.>', 'idm.user'), false);
    assert.equal(subjectMatches('idm.user.added.*', 'idm.user.added.u1.x'), false);
  });
});

describe('readStreamInBatches against a real nats-server', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  before(async () => {
    server = await startNatsServer();
    nc = await connectNats({ url: server.url, name: 'spec' });
    await ensureEventStream(await jetstreamManager(nc), { name: 'READ' });
    const publisher = new EventPublisher(jetstream(nc));
    for (let i = 0; i < 5; i++) {
      await publisher.publish(anEvent.userAdded({ userId: `u${i}`, email: `u${i}@example.com` }));
      await publisher.publish(anEvent.passwordSynced({ userId: `u${i}` }));
      await publisher.publish(anEvent.emailSent({ userId: `u${i}` }));
    }
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });

  async function read(filterSubjects?: string[], batchSize = 4): Promise<string[]> {
    const types: string[] = [];
    await readStreamInBatches(jetstream(nc), await jetstreamManager(nc), { stream: 'READ', filterSubjects, batchSize }, async (batch) => {
      for (const e of batch) types.push(`${e.event?.type}:${e.event?.subject}`);
    });
    return types;
  }

  it('reads everything in order, in batches', async () => {
    const all = await read();
    assert.equal(all.length, 15);
    assert.equal(all[0], 'idm.user.added:u0');
    assert.equal(all[14], 'idm.email.sent:u4');
  });

  it('filters by one subject, and by several on any server version', async () => {
    assert.deepEqual(
      await read(['idm.user.>']),
      [0, 1, 2, 3, 4].map((i) => `idm.user.added:u${i}`),
    );
    const two = await read(['idm.user.>', 'idm.email.>']);
    assert.equal(two.length, 10);
    assert.ok(two.every((t) => !t.startsWith('idm.password')));
  });
});
