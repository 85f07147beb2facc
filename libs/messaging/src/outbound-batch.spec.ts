import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundBatch } from './outbound-batch.js';

/** A delivery that records when it was acked, relative to the other events of the test. */
function delivery(log: string[], name: string, fail = false): { ack(): void } {
  return {
    ack() {
      if (fail) throw new Error('connection closed');
      log.push(`ack ${name}`);
    },
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('OutboundBatch', () => {
  it('sends the acks of one event-loop turn together, at the end of the turn, in the order given', async () => {
    const log: string[] = [];
    const acks = new OutboundBatch();
    acks.ack(delivery(log, 'a'));
    await Promise.resolve(); // a microtask checkpoint is not the end of the turn
    acks.ack(delivery(log, 'b'));
    log.push('turn goes on');
    assert.equal(acks.size, 2);
    await nextTurn();
    assert.deepEqual(log, ['turn goes on', 'ack a', 'ack b']);
    assert.equal(acks.size, 0);
  });

  it('a later turn gets a batch of its own', async () => {
    const log: string[] = [];
    const acks = new OutboundBatch();
    acks.ack(delivery(log, 'a'));
    await nextTurn();
    acks.ack(delivery(log, 'b'));
    log.push('b waits');
    await nextTurn();
    assert.deepEqual(log, ['ack a', 'b waits', 'ack b']);
  });

  it('flush() sends what waits at once, and nothing twice', async () => {
    const log: string[] = [];
    const acks = new OutboundBatch();
    acks.ack(delivery(log, 'a'));
    acks.flush();
    assert.deepEqual(log, ['ack a']);
    await nextTurn();
    assert.deepEqual(log, ['ack a']);
  });

  it('an ack that cannot be sent does not stop the others (its message is redelivered)', () => {
    const log: string[] = [];
    const acks = new OutboundBatch();
    acks.ack(delivery(log, 'a'));
    acks.ack(delivery(log, 'closed', true));
    acks.ack(delivery(log, 'c'));
    assert.doesNotThrow(() => acks.flush());
    assert.deepEqual(log, ['ack a', 'ack c']);
  });
});

describe('OutboundBatch replies', () => {
  /** A request that records its reply in `log`, or throws as on a closed connection. */
  const request = (log: string[], name: string, fail = false) => ({
    respond(body: string): boolean {
      if (fail) throw new Error('connection closed');
      log.push(`reply ${name}: ${body}`);
      return true;
    },
  });

  it('sends the replies of one event-loop turn together with its acks, at the end of the turn, in the order given', async () => {
    const log: string[] = [];
    const batch = new OutboundBatch();
    batch.respond(request(log, 'r1'), '{"ok":true}');
    await Promise.resolve(); // replies made at separate microtask checkpoints still share the turn
    batch.ack(delivery(log, 'a'));
    await Promise.resolve();
    batch.respond(request(log, 'r2'), '{"ok":false}');
    log.push('turn goes on');
    assert.equal(batch.size, 3);
    await nextTurn();
    assert.deepEqual(log, ['turn goes on', 'reply r1: {"ok":true}', 'ack a', 'reply r2: {"ok":false}']);
  });

  it('a reply that cannot be sent is reported and does not stop the others', () => {
    const log: string[] = [];
    const errors: string[] = [];
    const batch = new OutboundBatch((e) => {
      errors.push((e as Error).message);
      throw new Error('a broken logger');
    });
    batch.respond(request(log, 'r1'), '1');
    batch.respond(request(log, 'closed', true), '2');
    batch.ack(delivery(log, 'closed', true));
    batch.respond(request(log, 'r3'), '3');
    assert.doesNotThrow(() => batch.flush());
    assert.deepEqual(log, ['reply r1: 1', 'reply r3: 3']);
    assert.deepEqual(errors, ['connection closed', 'connection closed']);
  });
});
