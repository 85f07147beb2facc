import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { waitFor } from '@idm/testing';
import { CliStack } from './e2e/cli-stack.js';

describe('idm dlq against the notifier and password-sync (real nats-server, SQLite)', () => {
  const stack = new CliStack();
  before(async () => {
    await stack.start();
    stack.startApp('notifier');
    stack.startApp('password-sync');
    await stack.appsReady(['notifier', 'password-sync']);
  });
  after(() => stack.dispose());

  it('an undecodable message is listed, retried (re-appended) and dropped', async () => {
    await jetstream(stack.nc).publish('idm.user.added.broken', 'not json');
    let letters: Array<{ seq: number; consumer: string; reason: string }> = [];
    await waitFor(
      async () => {
        letters = await stack.idmJson(['dlq', 'list']);
        return letters.length >= 1;
      },
      { message: 'dead letter recorded', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal(letters[0]!.reason, 'undecodable');
    const before = await stack.lastSeq();
    const retried = await stack.idmJson<Array<{ action: string; newSeq: number }>>(['dlq', 'retry', String(letters[0]!.seq)]);
    assert.equal(retried[0]!.action, 'retried');
    assert.equal(retried[0]!.newSeq, before + 1);
    // Still undecodable: dead-lettered again by each consumer that receives it.
    await waitFor(async () => (await stack.idmJson<unknown[]>(['dlq', 'list'])).length >= letters.length, {
      message: 'retried message dead-lettered again',
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    const all = await stack.idmJson<Array<{ seq: number }>>(['dlq', 'list']);
    const dropped = await stack.idmJson<Array<{ action: string }>>(['dlq', 'drop', '--all']);
    assert.equal(dropped.length, all.length);
    assert.deepEqual(await stack.idmJson(['dlq', 'list']), []);
  });
});
