import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutcomeWindow } from './outcome-window.js';

/** An outcome's commit, settled by the test by hand. */
function pendingCommit(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve: () => void = () => undefined;
  let reject: (e: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('outcomes being stored while sending on', () => {
  it('given a full window, when one more outcome is added, then it waits for the oldest to be stored', async () => {
    const window = new OutcomeWindow(2);
    const stored: number[] = [];
    const commits = [pendingCommit(), pendingCommit(), pendingCommit()];
    await window.add(commits[0]!.promise, () => stored.push(0));
    await window.add(commits[1]!.promise, () => stored.push(1));
    let third = false;
    const adding = window.add(commits[2]!.promise, () => stored.push(2)).then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(third, false, 'the window is full');
    commits[0]!.resolve();
    await adding;
    assert.deepEqual(stored, [0]);
    commits[1]!.resolve();
    commits[2]!.resolve();
    await window.drain();
    assert.deepEqual(stored, [0, 1, 2]);
    assert.equal(window.failure, undefined);
  });

  it('given a failing commit, then the window reports the first failure after draining and never rejects', async () => {
    const window = new OutcomeWindow(4);
    const stored: number[] = [];
    await window.add(Promise.reject(new Error('database unavailable')), () => stored.push(0));
    await window.add(Promise.reject(new Error('later error')), () => stored.push(1));
    await window.add(Promise.resolve(), () => stored.push(2));
    await window.drain();
    assert.equal(window.failed, true);
    assert.match(String((window.failure?.error as Error).message), /database unavailable/);
    assert.deepEqual(stored, [2], 'only stored outcomes are counted');
  });
});
