import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { encodeEvent, eventSubject, STREAM_SUBJECTS, type IdmEvent } from '@idm/contracts';
// The test harness (a real nats-server, event builders) is this repository's; the service itself
// uses only @idm/contracts and the NATS client, as a service in another repository would.
import { anEvent, startNatsServer, waitFor, type NatsServerHandle } from '@idm/testing';
import { applyToTrail, EMPTY_TRAIL } from './audit-trail.projection.js';
import { startAuditTrail } from './audit-trail.service.js';

describe('example: an audit-trail service subscribing to idm-events', () => {
  describe('the projection', () => {
    it('given an applied event, when it is redelivered, then nothing changes', () => {
      const once = applyToTrail(EMPTY_TRAIL, anEvent.passwordSynced(), 5);
      assert.equal(applyToTrail(once, anEvent.passwordSynced(), 5), once);
      assert.equal(once.byUser.get('u-1001')?.[0]?.kind, 'password-synced');
    });
  });

  describe('against a real nats-server', () => {
    let nats: NatsServerHandle;
    let nc: NatsConnection;
    let js: JetStreamClient;
    let jsm: JetStreamManager;
    const stream = 'AUDIT_EXAMPLE';

    before(async () => {
      nats = await startNatsServer({ jetstream: true });
      nc = await connect({ servers: nats.url, name: 'audit-example' });
      js = jetstream(nc);
      jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [...STREAM_SUBJECTS] });
    });
    after(async () => {
      await nc?.close();
      await nats?.dispose();
    });

    it('keeps outcomes per user, skips what it did not subscribe to, and resumes where it stopped', async () => {
      // As docs/subscribing.md says: on the event's subject, its id as Nats-Msg-Id.
      const publisher = { publish: (e: IdmEvent) => js.publish(eventSubject(e), encodeEvent(e), { msgID: e.id }) };
      await publisher.publish(anEvent.userAdded({ userId: 'a' }));
      await publisher.publish(anEvent.passwordSyncFailed({ userId: 'a', reason: 'policy-violation', message: 'too short' }));
      await publisher.publish(anEvent.emailSent({ userId: 'a', emailType: 'NEW_USER' }));
      const service = await startAuditTrail(nc, js, jsm, { stream, durable: 'audit-trail', startFrom: 'all' });
      await waitFor(() => (service.trail().byUser.get('a')?.length ?? 0) === 2, { message: 'two outcomes for a' });
      assert.deepEqual(
        service
          .trail()
          .byUser.get('a')
          ?.map((e) => e.kind),
        ['password-failed', 'email-sent'],
      );
      await service.stop();

      await publisher.publish(anEvent.passwordSynced({ userId: 'a' }));
      const restarted = await startAuditTrail(nc, js, jsm, { stream, durable: 'audit-trail' });
      // The durable remembers the position: only the new event arrives.
      await waitFor(() => (restarted.trail().byUser.get('a')?.length ?? 0) === 1, { message: 'resumed' });
      assert.equal(restarted.trail().byUser.get('a')?.[0]?.kind, 'password-synced');
      await restarted.stop();
    });
  });
});
