import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { freePort } from './free-port.js';
import { HarnessError } from './harness-errors.js';
import { tempDir } from './temp-dir.js';
import { StopWaiting, waitFor } from './wait-for.js';

test('waitFor returns the first truthy value and retries through errors', async () => {
  let calls = 0;
  const value = await waitFor(
    () => {
      calls += 1;
      if (calls < 3) throw new Error('not yet');
      return `done after ${calls}`;
    },
    { intervalMs: 1 },
  );
  assert.equal(value, 'done after 3');
});

test('waitFor times out with a HarnessError naming what was awaited and the last error', async () => {
  await assert.rejects(
    waitFor(
      () => {
        throw new Error('still down');
      },
      { timeoutMs: 30, intervalMs: 5, message: 'the widget' },
    ),
    (err: unknown) =>
      err instanceof HarnessError && err.code === 'IDM_HARNESS_TIMEOUT' && /the widget/.test(err.message) && /still down/.test(err.message),
  );
});

test('waitFor ends at once when the predicate throws StopWaiting (the condition can never come true)', async () => {
  let calls = 0;
  await assert.rejects(
    waitFor(
      () => {
        calls += 1;
        throw new StopWaiting('the process exited');
      },
      { timeoutMs: 60_000, intervalMs: 1 },
    ),
    (err: unknown) => err instanceof StopWaiting && err.message === 'the process exited',
  );
  assert.equal(calls, 1, 'no second poll after StopWaiting');
});

test('freePort gives a loopback port; tempDir creates a directory under os.tmpdir()', async () => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65536);
  const dir = tempDir('idm/odd name');
  assert.ok(dir.startsWith(tmpdir()));
  assert.ok(existsSync(dir));
  rmSync(dir, { recursive: true });
});
