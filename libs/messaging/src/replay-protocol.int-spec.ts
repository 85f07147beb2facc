import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@idm/testing';
import { connectNats } from './nats-connection.js';
import { checkAppStopped, ReplayRefusedError } from './replay-protocol.js';

describe('checkAppStopped against a real nats-server', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  before(async () => {
    server = await startNatsServer({ jetstream: false });
    nc = await connectNats({ url: server.url, name: 'spec' });
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });
  const subject = 'idm.cmd.spec-app.status';

  it('an app nobody answers for is stopped', async () => {
    assert.equal(await checkAppStopped(nc, { app: 'spec-app', statusSubject: subject, force: false }), 'stopped');
  });

  it('an app that answers is running: refused without --force, allowed (and reported) with it', async () => {
    const sub = nc.subscribe(subject, {
      queue: 'spec',
      callback: (_e, msg) => {
        msg.respond('{"ok":true}');
      },
    });
    try {
      await assert.rejects(checkAppStopped(nc, { app: 'spec-app', statusSubject: subject, force: false }), (err: unknown) => {
        assert.ok(err instanceof ReplayRefusedError);
        assert.equal(err.code, 'IDM_REPLAY_APP_RUNNING');
        assert.match(err.message, /spec-app is still running .*idm\.cmd\.spec-app\.status.*--force/);
        return true;
      });
      assert.equal(await checkAppStopped(nc, { app: 'spec-app', statusSubject: subject, force: true }), 'running');
    } finally {
      sub.unsubscribe();
    }
    assert.equal(await checkAppStopped(nc, { app: 'spec-app', statusSubject: subject, force: true }), 'stopped');
  });

  it('a responder that never replies counts as stopped after the timeout (a hung app cannot block the replay)', async () => {
    const sub = nc.subscribe(subject, { callback: () => undefined });
    try {
      assert.equal(await checkAppStopped(nc, { app: 'spec-app', statusSubject: subject, force: false, timeoutMs: 200 }), 'stopped');
    } finally {
      sub.unsubscribe();
    }
  });
});
