import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@idm/testing';
import { NatsPasswordTarget, type ConnectorRequest } from './nats-password-target.js';

describe('NatsPasswordTarget against a real nats-server', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let responder: NatsConnection;
  let sub: Subscription;
  const received: ConnectorRequest[] = [];

  before(async () => {
    server = await startNatsServer({ jetstream: false });
    nc = await connect({ servers: server.url });
    responder = await connect({ servers: server.url });
    // A fake external connector: answers by the user id it is asked about.
    sub = responder.subscribe('connector.password');
    void (async () => {
      for await (const msg of sub) {
        const req = msg.json<ConnectorRequest>();
        received.push(req);
        switch (req.userId) {
          case 'ok':
            msg.respond(JSON.stringify({ status: 'applied' }));
            break;
          case 'ghost':
            msg.respond(JSON.stringify({ status: 'user-not-found', message: 'no such account' }));
            break;
          case 'short':
            msg.respond(JSON.stringify({ status: 'policy-violation', message: `password too short: ${req.password}` }));
            break;
          case 'down':
            msg.respond(JSON.stringify({ status: 'unavailable' }));
            break;
          case 'garbage':
            msg.respond('{"status":"maybe"}');
            break;
          default:
            // 'silent': no reply at all
            break;
        }
      }
    })();
    await responder.flush();
  });
  after(async () => {
    await nc.close();
    await responder.close();
    await server.dispose();
  });

  const target = (subject = 'connector.password') => new NatsPasswordTarget(nc, subject, 1_000);

  it('sends { userId, password } and maps applied', async () => {
    assert.deepEqual(await target().apply('ok', Buffer.from('Pa55word-ok')), { status: 'applied' });
    assert.deepEqual(received.at(-1), { userId: 'ok', password: 'Pa55word-ok' });
  });

  it('maps user-not-found with the connector message', async () => {
    assert.deepEqual(await target().apply('ghost', 'x-password'), { status: 'user-not-found', message: 'no such account' });
  });

  it('maps policy-violation and redacts a password the connector echoed', async () => {
    const result = await target().apply('short', 'Sh0rt!');
    assert.deepEqual(result, { status: 'policy-violation', message: 'password too short: ***' });
  });

  it('maps unavailable to target-unavailable', async () => {
    assert.equal((await target().apply('down', 'x-password')).status, 'target-unavailable');
  });

  it('treats no reply in time as target-unavailable', async () => {
    const result = await target().apply('silent', 'Silent-pw-1');
    assert.equal(result.status, 'target-unavailable');
    assert.equal(JSON.stringify(result).includes('Silent-pw-1'), false);
  });

  it('treats no responders as target-unavailable', async () => {
    assert.equal((await target('connector.nobody').apply('ok', 'x-password')).status, 'target-unavailable');
  });

  it('reports a malformed reply as target-error', async () => {
    assert.equal((await target().apply('garbage', 'x-password')).status, 'target-error');
  });

  it('describes itself as nats:<subject>', () => {
    assert.equal(target().describe(), 'nats:connector.password');
  });
});
