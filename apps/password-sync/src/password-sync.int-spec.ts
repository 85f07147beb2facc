import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { INestMicroservice } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { CommandSubjects, createEvent, EventTypes, type IdmEvent, type PasswordChangeReply } from '@idm/contracts';
import { connectNats, EventPublisher, JetStreamTransport, type MessagingConfig } from '@idm/messaging';
import { createAppMetrics } from '@idm/observability';
import { countOutboxRows } from '@idm/persistence';
import {
  ManualClock,
  metricValue,
  startNatsServer,
  specMessagingConfig,
  startSlapd,
  storedEvents,
  tempDir,
  waitFor,
  type NatsServerHandle,
  type SlapdHandle,
} from '@idm/testing';
import { PasswordSweeper } from './expiry/password-sweeper.js';
import { resolveExpirationPolicy } from './expiry/expiration-policy.js';
import { startPasswordSyncInProcess } from './password-sync-app.fixture.js';
import { PASSWORD_SYNC_CONSUMER } from './password-sync.tokens.js';
import { observePasswordSync } from './password-sync.observability.js';
import type { PasswordSyncConfig } from './password-sync.config.js';

describe('password-sync end to end (nats-server, slapd, SQLite)', () => {
  let nats: NatsServerHandle;
  let slapd: SlapdHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: EventPublisher;
  let app: INestMicroservice;
  let dataDir: string;
  let messaging: MessagingConfig;
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');
  const stream = `PWSYNC_${randomBytes(3).toString('hex')}`;
  const sentPasswords: string[] = [];

  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    slapd = await startSlapd({ ppolicyMinLength: 8 });
    dataDir = tempDir('pwsync-e2e');
    const config: PasswordSyncConfig = {
      dataDir,
      key: { key: randomBytes(32), source: 'env', warnings: [] },
      policy: resolveExpirationPolicy({ PASSWORD_EXPIRATION_MINUTES: '60' }),
      target: {
        PASSWORD_TARGET: slapd.url,
        PASSWORD_TARGET_BIND_DN: slapd.serviceBindDn,
        PASSWORD_TARGET_BIND_PASSWORD: slapd.serviceBindPassword,
        PASSWORD_TARGET_BASE_DN: slapd.baseDn,
        PASSWORD_TARGET_USER_ATTRIBUTE: 'uid',
        PASSWORD_TARGET_TIMEOUT_MS: 5_000,
      },
      // The spec drives the sweeps itself, with the manual clock.
      sweepIntervalMs: 3_600_000,
      commandQueue: 'password-sync',
    };
    messaging = specMessagingConfig({ url: nats.url, stream, name: 'pwsync-spec' });
    app = await startPasswordSyncInProcess({ config, messaging, clock });
    nc = await connectNats({ url: nats.url, name: 'pwsync-spec-client' });
    jsm = await jetstreamManager(nc);
    publisher = new EventPublisher(jetstream(nc));
  });

  after(async () => {
    await app?.close();
    await nc?.close();
    await slapd?.dispose();
    await nats?.dispose();
  });

  async function change(userId: string, password: string): Promise<PasswordChangeReply> {
    sentPasswords.push(password);
    const msg = await nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId, password }), { timeout: 20_000 });
    await published();
    return msg.json<PasswordChangeReply>();
  }

  /** The reply and a sweep come after the commit; the relay publishes the events right after it. */
  async function published(): Promise<void> {
    await waitFor(async () => (await countOutboxRows(app.get(DataSource))) === 0, { message: "password-sync's outbox published" });
  }

  const events = (): Promise<IdmEvent[]> => storedEvents(jsm, stream);

  /** Every event published so far has been delivered to password-sync and settled. */
  async function consumerCaughtUp(): Promise<void> {
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(stream, PASSWORD_SYNC_CONSUMER);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { message: 'consumer caught up' },
    );
  }

  async function eventsFor(userId: string): Promise<IdmEvent[]> {
    return (await events()).filter((e) => e.subject === userId && e.type.startsWith('idm.password.'));
  }

  const userAdded = (userId: string) =>
    createEvent(EventTypes.UserAdded, userId, { userId, email: `${userId}@example.com` }, { source: '/spec', time: clock.now() });
  const userModified = (userId: string) =>
    createEvent(EventTypes.UserModified, userId, { userId, changes: { title: 'x' } }, { source: '/spec', time: clock.now() });
  const sweep = async () => {
    await app.get(PasswordSweeper).runOnce();
    await published();
  };

  it('caches a password for a user not yet in the directory and applies it when UserAdded arrives', async () => {
    const reply = await change('newbie', 'Newbie-Passw0rd');
    assert.equal(reply.ok, true);
    const types = (await eventsFor('newbie')).map((e) => e.type);
    assert.deepEqual(types, [EventTypes.PasswordChanged, EventTypes.PasswordSyncFailed]);
    const failed = (await eventsFor('newbie'))[1]!;
    assert.equal(failed.type === EventTypes.PasswordSyncFailed && failed.data.reason, 'user-not-found');
    assert.equal(reply.ok && (await eventsFor('newbie'))[0]!.id, reply.ok ? reply.eventId : '');

    const dn = await slapd.addUser('newbie');
    await publisher.publish(userAdded('newbie'));
    const synced = await waitFor(async () => (await eventsFor('newbie')).find((e) => e.type === EventTypes.PasswordSynced), {
      message: 'PasswordSynced for newbie',
    });
    assert.equal(synced.type === EventTypes.PasswordSynced && synced.data.attempt, 2);
    assert.equal(await slapd.canBind(dn, 'Newbie-Passw0rd'), true);
  });

  it("rejects a 6-character password with the directory's reason, and a newer compliant one wins", async () => {
    const dn = await slapd.addUser('markus', { password: 'Initial-Passw0rd' });
    assert.equal((await change('markus', 'Sh0rt!')).ok, true);
    const failed = (await eventsFor('markus')).find((e) => e.type === EventTypes.PasswordSyncFailed);
    assert.ok(failed && failed.type === EventTypes.PasswordSyncFailed);
    assert.equal(failed.data.reason, 'policy-violation');
    assert.equal(failed.data.message, 'Password fails quality checking policy');
    assert.equal(failed.data.attempt, 1);

    // Retried on modification: fails again (another email), still cached.
    await publisher.publish(userModified('markus'));
    await waitFor(async () => (await eventsFor('markus')).filter((e) => e.type === EventTypes.PasswordSyncFailed).length === 2, {
      message: 'second failure',
    });

    clock.advance(1_000);
    assert.equal((await change('markus', 'Compliant-Passw0rd')).ok, true);
    assert.equal((await eventsFor('markus')).at(-1)?.type, EventTypes.PasswordSynced);
    assert.equal(await slapd.canBind(dn, 'Compliant-Passw0rd'), true);
  });

  it('expires a password that is never applied; a later UserAdded finds nothing to apply', async () => {
    assert.equal((await change('contractor', 'Contract-Passw0rd')).ok, true);
    clock.advance(59 * 60_000);
    await sweep();
    assert.equal(
      (await eventsFor('contractor')).some((e) => e.type === EventTypes.PasswordExpired),
      false,
    );
    clock.advance(2 * 60_000);
    await sweep();
    assert.equal((await eventsFor('contractor')).at(-1)?.type, EventTypes.PasswordExpired);

    const dn = await slapd.addUser('contractor', { password: 'Initial-Passw0rd' });
    const added = userAdded('contractor');
    await publisher.publish(added);
    // Marker: a later event for another user is handled after this one only if the first was settled.
    await publisher.publish(userModified('newbie'));
    await consumerCaughtUp();
    assert.equal((await eventsFor('contractor')).at(-1)?.type, EventTypes.PasswordExpired);
    assert.equal(await slapd.canBind(dn, 'Contract-Passw0rd'), false);
  });

  it('destroys the cached password of a removed user at once: PasswordExpired(user-removed), a later UserAdded applies nothing', async () => {
    assert.equal((await change('leaver', 'Leaver-Passw0rd')).ok, true);
    const removed = createEvent(
      EventTypes.UserRemoved,
      'leaver',
      { userId: 'leaver', reason: 'deleted' },
      { source: '/spec', time: clock.now() },
    );
    await publisher.publish(removed);
    const expired = await waitFor(async () => (await eventsFor('leaver')).find((e) => e.type === EventTypes.PasswordExpired), {
      message: 'PasswordExpired for leaver',
    });
    assert.equal(expired.type === EventTypes.PasswordExpired && expired.data.reason, 'user-removed');
    assert.equal(expired.causationid, removed.id);
    // A redelivery of the removal (same id) appends nothing more.
    await publisher.publish(removed);
    const dn = await slapd.addUser('leaver', { password: 'Initial-Passw0rd' });
    await publisher.publish(userAdded('leaver'));
    await publisher.publish(userModified('newbie'));
    await consumerCaughtUp();
    assert.deepEqual(
      (await eventsFor('leaver')).map((e) => e.type),
      [EventTypes.PasswordChanged, EventTypes.PasswordSyncFailed, EventTypes.PasswordExpired],
    );
    assert.equal(await slapd.canBind(dn, 'Leaver-Passw0rd'), false);
  });

  it('retries on a backoff timer while the directory is down, and applies once it is back', async () => {
    const dn = await slapd.addUser('outage', { password: 'Initial-Passw0rd' });
    await slapd.stop();
    try {
      assert.equal((await change('outage', 'Outage-Passw0rd')).ok, true);
      const failed = (await eventsFor('outage')).at(-1);
      assert.equal(failed?.type === EventTypes.PasswordSyncFailed && failed.data.reason, 'target-unavailable');
      clock.advance(5_000);
      await sweep();
      assert.equal((await eventsFor('outage')).filter((e) => e.type === EventTypes.PasswordSyncFailed).length, 2);
    } finally {
      await slapd.start();
    }
    clock.advance(4_999);
    await sweep();
    assert.equal((await eventsFor('outage')).at(-1)?.type, EventTypes.PasswordSyncFailed, 'second backoff step is 10 s');
    clock.advance(5_001);
    await sweep();
    assert.equal((await eventsFor('outage')).at(-1)?.type, EventTypes.PasswordSynced);
    assert.equal(await slapd.canBind(dn, 'Outage-Passw0rd'), true);
  });

  it('answers an invalid request with an error that does not echo it', async () => {
    const bad = await nc.request(CommandSubjects.PasswordChange, '{"userId":"x","password":"Leak-Me-Not-1', { timeout: 10_000 });
    const reply = bad.json<PasswordChangeReply>();
    assert.equal(reply.ok, false);
    assert.equal(JSON.stringify(reply).includes('Leak-Me-Not-1'), false);
    const missing = (
      await nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId: 'x', password: '' }), { timeout: 10_000 })
    ).json<PasswordChangeReply>();
    assert.equal(missing.ok, false);
    assert.match(missing.ok ? '' : missing.error, /password/);
  });

  it('never writes a password to the stream', async () => {
    const all = await events();
    const text = JSON.stringify(all);
    for (const p of sentPasswords) assert.equal(text.includes(p), false, `a password reached the stream`);
  });

  it('metrics: cached passwords, seconds to the earliest expiry, the target-unavailable streak, the relay failures in a row', async () => {
    const metrics = createAppMetrics('password-sync');
    const ready = { isReady: () => true } as unknown as JetStreamTransport;
    await observePasswordSync(app, ready, { metrics, messaging, port: null, logger: { log() {}, error() {}, warn() {} } });
    const scrape = async (name: string): Promise<number> => metricValue(await metrics.registry.metrics(), `${name}{app="password-sync"}`);
    const cachedBefore = await scrape('idm_cached_passwords');
    assert.equal((await change('gauges', 'Gauges-Passw0rd')).ok, true); // not in the directory: cached
    assert.equal(await scrape('idm_cached_passwords'), cachedBefore + 1);
    // PASSWORD_EXPIRATION_MINUTES=60 on the manual clock: exactly an hour left.
    assert.equal(await scrape('idm_cached_password_next_expiry_seconds'), 3600);
    assert.equal(await scrape('idm_password_target_unavailable_streak'), 0);
    assert.equal(await scrape('idm_outbox_relay_failures_in_a_row'), 0); // the stream takes the events
    await slapd.stop();
    try {
      assert.equal((await change('gauges-outage', 'Gauges-Outage-Passw0rd')).ok, true);
      assert.equal(await scrape('idm_password_target_unavailable_streak'), 1);
      clock.advance(5_000);
      await sweep();
      assert.equal(await scrape('idm_password_target_unavailable_streak'), 2);
      assert.equal(await scrape('idm_cached_password_next_expiry_seconds'), 3595);
    } finally {
      await slapd.start();
    }
  });
});
