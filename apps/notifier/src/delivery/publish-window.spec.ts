import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PublishWindow } from './publish-window.js';

/** An append the test settles by hand. */
function pendingAppend(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve: () => void = () => undefined;
  let reject: (e: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('appends in flight while sending on', () => {
  it('given a full window, when one more append is added, then it waits for the oldest to be stored', async () => {
    const window = new PublishWindow(2);
    const stored: number[] = [];
    const appends = [pendingAppend(), pendingAppend(), pendingAppend()];
    await window.add(appends[0]!.promise, () => stored.push(0));
    await window.add(appends[1]!.promise, () => stored.push(1));
    let third = false;
    const adding = window.add(appends[2]!.promise, () => stored.push(2)).then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(third, false, 'the window is full');
    appends[0]!.resolve();
    await adding;
    assert.deepEqual(stored, [0]);
    appends[1]!.resolve();
    appends[2]!.resolve();
    await window.drain();
    assert.deepEqual(stored, [0, 1, 2]);
    assert.equal(window.failure, undefined);
  });

  it('given a failing append, then the window reports the first failure after draining and never rejects', async () => {
    const window = new PublishWindow(4);
    const stored: number[] = [];
    await window.add(Promise.reject(new Error('nats unavailable')), () => stored.push(0));
    await window.add(Promise.reject(new Error('later error')), () => stored.push(1));
    await window.add(Promise.resolve(), () => stored.push(2));
    await window.drain();
    assert.equal(window.failed, true);
    assert.match(String((window.failure?.error as Error).message), /nats unavailable/);
    assert.deepEqual(stored, [2], 'only stored appends are counted');
  });
});
