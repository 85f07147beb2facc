import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IdmEvent } from '@idm/contracts';
import { anEvent, memoryLog, type MemoryLog } from '@idm/testing';
import type { ReplayLine } from './replay-protocol.js';
import { replayProjection, type Projection, type StreamBatchReader } from './replay-projection.js';
import type { StreamBatchOptions } from './stream-batches.js';

// The driver alone, over a log held in memory and a projection that records what it is asked:
// which keys are loaded when, what is written with which checkpoint, and the lines printed.

/** Per user: how many times they were added or modified (ticks change nothing). */
interface Count {
  readonly user: string;
  readonly n: number;
}

function logOf(...items: Array<IdmEvent | 'garbage'>) {
  return memoryLog(items.map((item) => (item === 'garbage' ? new Error('not a CloudEvent') : item)));
}

/** Reads `log` and remembers the options it was asked with. */
function memoryReader(log: MemoryLog, seen: StreamBatchOptions[]): StreamBatchReader {
  return (options, onBatch) => {
    seen.push(options);
    return log.read(options, onBatch);
  };
}

interface Recorder {
  readonly calls: string[];
  readonly stored: Map<string, number>;
  failWrite?: boolean;
  skipLoadOf?: string;
}

function countingProjection(rec: Recorder): Projection<Count> {
  return {
    app: 'counter',
    keyOf: (e) => (e.type === 'idm.user.added' || e.type === 'idm.user.modified' ? e.data.userId : undefined),
    observe: (e) => rec.calls.push(`observe ${e.type}`),
    load: (keys, fromNothing) => {
      rec.calls.push(`load ${keys.join(',')} fromNothing=${fromNothing}`);
      const states = new Map<string, Count>();
      for (const user of keys) if (user !== rec.skipLoadOf) states.set(user, { user, n: fromNothing ? 0 : (rec.stored.get(user) ?? 0) });
      return Promise.resolve(states);
    },
    evolve: (state, event, seq) => {
      rec.calls.push(`evolve ${state.user}@${seq}`);
      return event.type === 'idm.user.modified' && event.data.userId === 'same' ? state : { ...state, n: state.n + 1 };
    },
    write: (changed, seq) => {
      if (rec.failWrite) return Promise.reject(new Error('database down'));
      rec.calls.push(`write ${[...changed.keys()].join(',')} checkpoint=${seq}`);
      for (const [user, s] of changed) rec.stored.set(user, s.n);
      return Promise.resolve();
    },
    reset: () => {
      rec.calls.push('reset');
      rec.stored.clear();
      return Promise.resolve();
    },
    rows: (states, dryRun) => Promise.resolve({ counts: dryRun ? states.size : rec.stored.size }),
  };
}

const alice = (type: 'added' | 'modified') =>
  type === 'added' ? anEvent.userAdded({ userId: 'alice' }) : anEvent.userModified({ userId: 'alice' });

describe('replayProjection', () => {
  describe('a full replay (no fromSeq, no since)', () => {
    it('resets, loads each key once from nothing, writes only what changed with the batch checkpoint, and prints the lines', async () => {
      const rec: Recorder = { calls: [], stored: new Map([['stale', 9]]) };
      const lines: ReplayLine[] = [];
      const seen: StreamBatchOptions[] = [];
      const log = logOf(alice('added'), anEvent.bulkTaskTick(), anEvent.userAdded({ userId: 'bob' }), alice('modified'));
      const result = await replayProjection(
        countingProjection(rec),
        { read: memoryReader(log, seen), sink: (l) => lines.push(l) },
        { stream: 'S', batchSize: 2 },
      );
      assert.deepEqual(result, { read: 4, applied: 3, lastSeq: 4 });
      assert.deepEqual(
        rec.calls.filter((c) => !c.startsWith('observe')),
        [
          'reset',
          'load alice fromNothing=true',
          'evolve alice@1',
          'write alice checkpoint=2',
          'load bob fromNothing=true',
          'evolve bob@3',
          'evolve alice@4',
          'write bob,alice checkpoint=4',
        ],
      );
      assert.deepEqual(Object.fromEntries(rec.stored), { alice: 2, bob: 1 });
      assert.deepEqual(seen, [{ stream: 'S', fromSeq: undefined, since: undefined, batchSize: 2 }]);
      assert.deepEqual(
        lines.map((l) => l.kind),
        ['start', 'progress', 'progress', 'summary'],
      );
      assert.deepEqual(lines[0], { kind: 'start', app: 'counter', stream: 'S', fromSeq: null, since: null, dryRun: false });
      const summary = lines[3]!;
      assert.ok(summary.kind === 'summary');
      assert.deepEqual(
        { read: summary.read, applied: summary.applied, undecodable: summary.undecodable, lastSeq: summary.lastSeq, rows: summary.rows },
        { read: 4, applied: 3, undecodable: 0, lastSeq: 4, rows: { counts: 2 } },
      );
    });

    it('reads 5000 messages a batch unless told otherwise', async () => {
      const seen: StreamBatchOptions[] = [];
      await replayProjection(
        countingProjection({ calls: [], stored: new Map() }),
        { read: memoryReader(memoryLog([]), seen), sink: () => undefined },
        { stream: 'S' },
      );
      assert.equal(seen[0]!.batchSize, 5000);
    });
  });

  describe('a partial replay (fromSeq)', () => {
    it('does not reset and continues from the stored state', async () => {
      const rec: Recorder = { calls: [], stored: new Map([['alice', 5]]) };
      const seen: StreamBatchOptions[] = [];
      const log = logOf(alice('added'), alice('modified'), alice('modified'));
      await replayProjection(
        countingProjection(rec),
        { read: memoryReader(log, seen), sink: () => undefined },
        { stream: 'S', fromSeq: 2 },
      );
      assert.equal(seen[0]!.fromSeq, 2);
      assert.ok(!rec.calls.includes('reset'));
      assert.ok(rec.calls.includes('load alice fromNothing=false'));
      assert.equal(rec.stored.get('alice'), 7);
    });
  });

  describe('a dry run', () => {
    it('neither resets nor writes, and counts rows from the replayed states', async () => {
      const rec: Recorder = { calls: [], stored: new Map() };
      const lines: ReplayLine[] = [];
      const log = logOf(alice('added'), anEvent.userAdded({ userId: 'bob' }));
      const result = await replayProjection(
        countingProjection(rec),
        { read: memoryReader(log, []), sink: (l) => lines.push(l) },
        { stream: 'S', dryRun: true },
      );
      assert.equal(result.applied, 2);
      assert.ok(!rec.calls.some((c) => c === 'reset' || c.startsWith('write')));
      const summary = lines.at(-1)!;
      assert.ok(summary.kind === 'summary' && summary.dryRun);
      assert.deepEqual(summary.rows, { counts: 2 });
    });
  });

  describe('what does not change the projection', () => {
    it('counts undecodable messages and skips them; an evolve that returns the same state is not applied nor written', async () => {
      const rec: Recorder = { calls: [], stored: new Map() };
      const lines: ReplayLine[] = [];
      const log = logOf('garbage', anEvent.userModified({ userId: 'same' }), anEvent.bulkTaskTick());
      const result = await replayProjection(
        countingProjection(rec),
        { read: memoryReader(log, []), sink: (l) => lines.push(l) },
        { stream: 'S' },
      );
      assert.deepEqual(result, { read: 3, applied: 0, lastSeq: 3 });
      assert.ok(rec.calls.includes('write  checkpoint=3'), 'the checkpoint still moves on');
      const summary = lines.at(-1)!;
      assert.ok(summary.kind === 'summary');
      assert.equal(summary.undecodable, 1);
    });

    it('shows every decoded event to observe, before it is evolved', async () => {
      const rec: Recorder = { calls: [], stored: new Map() };
      const log = logOf(anEvent.bulkTaskTick(), alice('added'));
      await replayProjection(countingProjection(rec), { read: memoryReader(log, []), sink: () => undefined }, { stream: 'S' });
      const order = rec.calls.filter((c) => c.startsWith('observe') || c.startsWith('evolve'));
      assert.deepEqual(order, ['observe idm.bulk-task.tick', 'observe idm.user.added', 'evolve alice@2']);
    });
  });

  describe('failures', () => {
    it('a write failure rejects the replay and prints no summary', async () => {
      const rec: Recorder = { calls: [], stored: new Map(), failWrite: true };
      const lines: ReplayLine[] = [];
      await assert.rejects(
        replayProjection(
          countingProjection(rec),
          { read: memoryReader(logOf(alice('added')), []), sink: (l) => lines.push(l) },
          { stream: 'S' },
        ),
        /database down/,
      );
      assert.ok(!lines.some((l) => l.kind === 'summary'));
    });

    it('a load that leaves a key out is a programming error, named', async () => {
      const rec: Recorder = { calls: [], stored: new Map(), skipLoadOf: 'alice' };
      await assert.rejects(
        replayProjection(
          countingProjection(rec),
          { read: memoryReader(logOf(alice('added')), []), sink: () => undefined },
          { stream: 'S' },
        ),
        /counter replay: load\(\) returned no state for key "alice"/,
      );
    });
  });
});
