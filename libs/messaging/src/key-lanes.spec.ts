import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyLanes } from './key-lanes.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyLanes', () => {
  it('runs tasks of one key one after another, in order', async () => {
    const lanes = new KeyLanes(8);
    const log: string[] = [];
    const gate = deferred();
    await lanes.acquire();
    void lanes.run('u1', async () => {
      log.push('a:start');
      await gate.promise;
      log.push('a:end');
    });
    await lanes.acquire();
    void lanes.run('u1', async () => {
      log.push('b');
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['a:start'], 'b must wait for a');
    gate.resolve();
    await lanes.idle();
    assert.deepEqual(log, ['a:start', 'a:end', 'b']);
  });

  it('runs different keys side by side', async () => {
    const lanes = new KeyLanes(8);
    const gate = deferred();
    const started: string[] = [];
    for (const key of ['u1', 'u2', 'u3']) {
      await lanes.acquire();
      void lanes.run(key, async () => {
        started.push(key);
        await gate.promise;
      });
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started.sort(), ['u1', 'u2', 'u3']);
    gate.resolve();
    await lanes.idle();
  });

  it('holds the producer back when the limit is reached', async () => {
    const lanes = new KeyLanes(2);
    const gate = deferred();
    for (const key of ['a', 'b']) {
      await lanes.acquire();
      void lanes.run(key, () => gate.promise);
    }
    let third = false;
    const acquiring = lanes.acquire().then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(third, false);
    gate.resolve();
    await acquiring;
    assert.equal(third, true);
    void lanes.run('c', async () => undefined);
    await lanes.idle();
    assert.equal(lanes.size, 0);
  });

  it('keeps going after a task fails', async () => {
    const lanes = new KeyLanes(1);
    await lanes.acquire();
    void lanes.run('k', async () => {
      throw new Error('x');
    });
    let ran = false;
    await lanes.acquire();
    await lanes.run('k', async () => {
      ran = true;
    });
    assert.equal(ran, true);
  });
});
