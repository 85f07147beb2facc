import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/nats-core';
import { CommandSubjects } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import { startNatsServer, type NatsServerHandle } from '@idm/testing';
import type { PasswordCacheService } from '../password-cache/password-cache.service.js';
import type { PasswordSyncConfig } from '../password-sync.config.js';
import { PasswordChangeResponder } from './password-change.responder.js';

/**
 * The responder's own promise to a requester — every request gets an answer — against a real
 * nats-server, with the cache service replaced by one that misbehaves the ways a bug would: the
 * misbehaviour cannot be produced through the real service.
 */
describe('PasswordChangeResponder when the service misbehaves', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let responder: PasswordChangeResponder;
  let behaviour: () => Promise<unknown> = async () => ({ ok: true, eventId: 'e-1' });
  before(async () => {
    server = await startNatsServer({ jetstream: false });
    nc = await connectNats({ url: server.url, name: 'spec' });
    const service = { changePassword: () => behaviour() } as unknown as PasswordCacheService;
    responder = new PasswordChangeResponder(nc, service, { commandQueue: 'spec' } as PasswordSyncConfig);
    responder.onApplicationBootstrap();
  });
  after(async () => {
    await responder.beforeApplicationShutdown();
    await nc.close();
    await server.dispose();
  });
  const ask = async () =>
    (await nc.request(CommandSubjects.PasswordChange, '{"userId":"ada","password":"hunter2"}', { timeout: 2_000 })).json<unknown>();

  it('answers a well-behaved service with its reply', async () => {
    assert.deepEqual(await ask(), { ok: true, eventId: 'e-1' });
  });

  it('answers a reply JSON cannot encode with an error reply, not a timeout', async () => {
    behaviour = async () => ({ ok: true, eventId: 10n });
    assert.deepEqual(await ask(), { ok: false, error: 'the answer could not be encoded' });
  });

  it('answers a service that throws with an error that does not echo the request', async () => {
    behaviour = async () => {
      throw new Error('database is locked');
    };
    const reply = await ask();
    assert.deepEqual(reply, { ok: false, error: 'the password change could not be stored; try again' });
  });
});
