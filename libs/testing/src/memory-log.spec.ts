import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { anEvent } from './builders.js';
import { memoryLog, type MemoryLogEntry } from './memory-log.js';

async function readAll(log: ReturnType<typeof memoryLog>, options: Parameters<ReturnType<typeof memoryLog>['read']>[0]) {
  const batches: Array<{ seqs: number[]; progress: { read: number; pending: number; seq: number } }> = [];
  const result = await log.read(options, (batch: readonly MemoryLogEntry[], progress) => {
    batches.push({ seqs: batch.map((e) => e.seq), progress });
    return Promise.resolve();
  });
  return { batches, result };
}

describe('memoryLog', () => {
  const at = (s: number) => ({ time: new Date(Date.UTC(2026, 0, 1, 0, 0, s)) });
  const log = memoryLog([
    anEvent.userAdded({ userId: 'a' }, at(1)),
    new Error('not a CloudEvent'),
    anEvent.userAdded({ userId: 'b' }, at(3)),
    anEvent.userAdded({ userId: 'c' }, at(4)),
  ]);

  it('numbers the items from 1, undecodable ones as errors, events under their subject', () => {
    assert.equal(log.lastSeq, 4);
    assert.equal(log.entries[1]!.error?.message, 'not a CloudEvent');
    assert.match(log.entries[0]!.subject, /^idm\.user\.added\./);
  });

  it('hands the log over in batches, in order, with progress', async () => {
    const { batches, result } = await readAll(log, { batchSize: 3 });
    assert.deepEqual(batches, [
      { seqs: [1, 2, 3], progress: { read: 3, pending: 1, seq: 3 } },
      { seqs: [4], progress: { read: 4, pending: 0, seq: 4 } },
    ]);
    assert.deepEqual(result, { read: 4, lastSeq: 4 });
  });

  it('starts at fromSeq, or at the first event at or after since', async () => {
    assert.deepEqual((await readAll(log, { fromSeq: 3 })).batches[0]!.seqs, [3, 4]);
    assert.deepEqual((await readAll(log, { since: at(3).time })).batches[0]!.seqs, [3, 4]);
  });

  it('reads nothing past the end', async () => {
    assert.deepEqual(await readAll(log, { fromSeq: 9 }), { batches: [], result: { read: 0, lastSeq: 0 } });
  });
});
