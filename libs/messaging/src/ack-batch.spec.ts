import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AckBatch } from './ack-batch.js';

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

describe('AckBatch', () => {
  it('sends the acks of one event-loop turn together, at the end of the turn, in the order given', async () => {
    const log: string[] = [];
    const acks = new AckBatch();
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
    const acks = new AckBatch();
    acks.ack(delivery(log, 'a'));
    await nextTurn();
    acks.ack(delivery(log, 'b'));
    log.push('b waits');
    await nextTurn();
    assert.deepEqual(log, ['ack a', 'b waits', 'ack b']);
  });

  it('flush() sends what waits at once, and nothing twice', async () => {
    const log: string[] = [];
    const acks = new AckBatch();
    acks.ack(delivery(log, 'a'));
    acks.flush();
    assert.deepEqual(log, ['ack a']);
    await nextTurn();
    assert.deepEqual(log, ['ack a']);
  });

  it('an ack that cannot be sent does not stop the others (its message is redelivered)', () => {
    const log: string[] = [];
    const acks = new AckBatch();
    acks.ack(delivery(log, 'a'));
    acks.ack(delivery(log, 'closed', true));
    acks.ack(delivery(log, 'c'));
    assert.doesNotThrow(() => acks.flush());
    assert.deepEqual(log, ['ack a', 'ack c']);
  });
});
