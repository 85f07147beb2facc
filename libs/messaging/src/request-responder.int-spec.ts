import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@idm/testing';
import { connectNats } from './nats-connection.js';
import { parseRequest, RequestResponders } from './request-responder.js';

describe('RequestResponders against a real nats-server', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  const errors: string[] = [];
  before(async () => {
    server = await startNatsServer({ jetstream: false });
    nc = await connectNats({ url: server.url, name: 'spec' });
    const schema = z.object({ name: z.string() });
    new RequestResponders(nc, 'spec', { error: (m) => errors.push(m) }).serve('idm.cmd.spec.hello', async (msg) => {
      const req = parseRequest(msg, schema, '{ "name": "<name>" }');
      if (!req.ok) return req.reply;
      if (req.value.name === 'boom') throw new Error('exploded');
      if (req.value.name === 'big') return { ok: true, count: 10n };
      return { ok: true, greeting: `hello ${req.value.name}` };
    });
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });
  const ask = async (body: string) => (await nc.request('idm.cmd.spec.hello', body, { timeout: 2_000 })).json<Record<string, unknown>>();

  it('answers with the handler value', async () => {
    assert.deepEqual(await ask('{"name":"ada"}'), { ok: true, greeting: 'hello ada' });
  });
  it('answers bad input without echoing it', async () => {
    assert.deepEqual(await ask('{"secret":"hunter2"'), { ok: false, error: 'the request is not JSON' });
    assert.deepEqual(await ask('{"secret":"hunter2"}'), { ok: false, error: 'expected { "name": "<name>" }' });
  });
  it('turns a thrown error into an error reply and a log line', async () => {
    assert.deepEqual(await ask('{"name":"boom"}'), { ok: false, error: 'exploded' });
    assert.ok(errors.some((e) => e.includes('exploded')));
  });

  it('answers an answer JSON cannot encode with an error reply instead of leaving the requester to time out', async () => {
    errors.length = 0;
    assert.deepEqual(await ask('{"name":"big"}'), { ok: false, error: 'the answer could not be encoded' });
    assert.deepEqual(errors, ['idm.cmd.spec.hello: the answer could not be encoded as JSON: Do not know how to serialize a BigInt']);
  });

  const askOn = async (subject: string, body: string) =>
    (await nc.request(subject, body, { timeout: 2_000 })).json<Record<string, unknown>>();
  it('RequestResponders: answers each subject in the queue group, a parsed one only for a valid body, and stops answering all on close', async () => {
    const responders = new RequestResponders(nc, 'spec', { error: () => undefined });
    responders.serve('idm.cmd.spec.status', async () => ({ ok: true, status: 'fine' }));
    let asked = 0;
    responders.serveParsed('idm.cmd.spec.user', z.object({ userId: z.string() }), '{ "userId": "<id>" }', async ({ userId }) => {
      asked++;
      return { ok: true, userId };
    });
    assert.deepEqual(await askOn('idm.cmd.spec.status', ''), { ok: true, status: 'fine' });
    assert.deepEqual(await askOn('idm.cmd.spec.user', '{"userId":"u-1"}'), { ok: true, userId: 'u-1' });
    assert.deepEqual(await askOn('idm.cmd.spec.user', '{"user":"u-1"}'), { ok: false, error: 'expected { "userId": "<id>" }' });
    assert.equal(asked, 1, 'an invalid body never reaches the answer');
    await responders.close();
    await nc.flush();
    await assert.rejects(askOn('idm.cmd.spec.status', ''), /no responders|503/i);
  });

  it('close() waits for the answers in flight and sends their replies before it resolves', async () => {
    const responders = new RequestResponders(nc, 'spec', { error: () => undefined });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    responders.serve('idm.cmd.spec.slow', async () => {
      started();
      await released;
      return { ok: true, done: 'fired' };
    });
    await nc.flush();
    const asked = askOn('idm.cmd.spec.slow', '');
    await running;
    assert.equal(responders.answering, 1);
    let closed = false;
    const closing = responders.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(closed, false, 'close() is still waiting for the answer in flight');
    release();
    await closing;
    assert.equal(responders.answering, 0);
    // The reply left before close() resolved: a connection drained right after still carried it.
    assert.deepEqual(await asked, { ok: true, done: 'fired' });
  });

  it('a logger that throws costs the log line, never the reply, and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const responders = new RequestResponders(nc, 'spec', {
        error: () => {
          throw new Error('log sink gone');
        },
      });
      responders.serve('idm.cmd.spec.broken', () => {
        // Not async: it throws before any promise exists.
        throw new Error('exploded at once');
      });
      responders.serve('idm.cmd.spec.unencodable', async () => ({ ok: true, count: 1n }));
      await nc.flush();
      assert.deepEqual(await askOn('idm.cmd.spec.broken', ''), { ok: false, error: 'exploded at once' });
      assert.deepEqual(await askOn('idm.cmd.spec.unencodable', ''), { ok: false, error: 'the answer could not be encoded' });
      await responders.close();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
