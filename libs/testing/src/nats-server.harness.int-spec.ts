import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from './nats-server.harness.js';

test('nats-server: JetStream stream and messages survive kill -9 and restart on the same port', async (t) => {
  const server = await startNatsServer();
  t.after(() => server.dispose());
  assert.match(server.version, /^\d+\.\d+\.\d+/);
  assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);

  const before = await connect({ servers: server.url });
  const jsm = await jetstreamManager(before);
  await jsm.streams.add({ name: 'HARNESS', subjects: ['harness.>'], storage: StorageType.File });
  const js = jetstream(before);
  for (const n of [1, 2, 3]) await js.publish(`harness.${n}`, `message ${n}`);
  await before.close();

  await server.kill();
  await assert.rejects(connect({ servers: server.url, reconnect: false, timeout: 1_000 }));
  await server.restart();

  const after = await connect({ servers: server.url });
  t.after(() => after.close());
  const info = await (await jetstreamManager(after)).streams.info('HARNESS');
  assert.equal(info.state.messages, 3);
  const second = await (await jetstreamManager(after)).streams.getMessage('HARNESS', { seq: 2 });
  assert.equal(second?.string(), 'message 2');
  assert.equal(second?.subject, 'harness.2');
});

test('nats-server: dispose stops the server and removes its store', async () => {
  const server = await startNatsServer({ jetstream: true });
  assert.ok(existsSync(server.storeDir));
  assert.ok(readFileSync(server.logFile, 'utf8').length > 0);
  await server.dispose();
  assert.equal(existsSync(server.storeDir), false);
  await assert.rejects(connect({ servers: server.url, reconnect: false, timeout: 1_000 }));
});

test('nats-server: without JetStream it still starts and serves core NATS', async (t) => {
  const server = await startNatsServer({ jetstream: false });
  t.after(() => server.dispose());
  const nc = await connect({ servers: server.url });
  t.after(() => nc.close());
  const sub = nc.subscribe('ping', { max: 1 });
  nc.publish('ping', 'pong');
  for await (const m of sub) assert.equal(m.string(), 'pong');
});
