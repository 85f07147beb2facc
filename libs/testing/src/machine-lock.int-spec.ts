import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { acquireMachineLock } from './machine-lock.js';
import { waitFor } from './wait-for.js';

const uniqueName = (): string => `lock-spec-${randomBytes(6).toString('hex')}`;

/** A pid that is certainly dead: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid ?? assert.fail('no pid');
}

function plantLock(name: string, owner: Record<string, unknown>): string {
  const path = join(tmpdir(), `idm-${name}.lock`);
  mkdirSync(path);
  writeFileSync(
    join(path, 'owner.json'),
    JSON.stringify({ hostname: hostname(), acquiredAt: 'earlier', purpose: 'planted by spec', ...owner }),
  );
  return path;
}

describe('machine-wide lock', () => {
  test('a second taker waits, says who holds it, and gets the lock once it is released', async () => {
    const name = uniqueName();
    const first = await acquireMachineLock(name, { purpose: 'first' });
    const lines: string[] = [];
    let secondHeld = false;
    const second = acquireMachineLock(name, { purpose: 'second', log: (l) => lines.push(l) }).then((lock) => {
      secondHeld = true;
      return lock;
    });
    await waitFor(() => lines.length > 0, { message: 'the waiting line' });
    assert.match(lines[0] ?? '', new RegExp(`held by pid ${process.pid} .*\\(first\\)`));
    assert.equal(secondHeld, false);
    first.release();
    const lock = await second;
    assert.ok(existsSync(lock.path));
    lock.release();
    assert.equal(existsSync(lock.path), false);
  });

  test('a lock whose owner died is taken over, and the server it left behind is killed', async () => {
    const name = uniqueName();
    const orphan = spawn('sleep', ['300'], { stdio: 'ignore' });
    const orphanExit = new Promise<NodeJS.Signals | null>((resolve) => orphan.once('exit', (_code, signal) => resolve(signal)));
    plantLock(name, { pid: deadPid(), childPid: orphan.pid, childCommand: 'sleep' });
    const lines: string[] = [];
    const lock = await acquireMachineLock(name, { log: (l) => lines.push(l), timeoutMs: 10_000 });
    assert.equal(await orphanExit, 'SIGKILL');
    assert.match(lines.join('\n'), /took over stale lock/);
    lock.release();
  });

  test('a live foreign owner is never taken over: the taker times out naming the owner', async () => {
    const name = uniqueName();
    const path = plantLock(name, { pid: process.ppid });
    await assert.rejects(acquireMachineLock(name, { timeoutMs: 300, log: () => undefined }), (err: Error) => {
      assert.match(err.message, new RegExp(`held by pid ${process.ppid}`));
      return true;
    });
    assert.ok(existsSync(path));
    spawnSync('rm', ['-rf', path]);
  });

  test('a recycled pid (same pid, other start time) counts as dead', async () => {
    const name = uniqueName();
    plantLock(name, { pid: process.pid, startTime: '1' });
    const lock = await acquireMachineLock(name, { timeoutMs: 10_000, log: () => undefined });
    lock.release();
  });
});
