import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stopChild } from './stop-child.js';

/** A node child that logs `up` once it runs; with `ignoreTerm` it ignores SIGTERM. */
async function child(ignoreTerm: boolean) {
  const script = `${ignoreTerm ? "process.on('SIGTERM', () => {});" : ''} console.log('up'); setInterval(() => {}, 1000);`;
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(proc.stdout, 'data');
  return proc;
}

describe('stopChild (real child processes)', () => {
  for (const c of [
    {
      name: 'a child that heeds SIGTERM exits on it, and nobody is told of a kill',
      ignoreTerm: false,
      timeoutMs: 30_000,
      signal: 'SIGTERM',
      told: false,
    },
    {
      name: 'a child that ignores SIGTERM is killed after the timeout, and onKill is told',
      ignoreTerm: true,
      timeoutMs: 200,
      signal: 'SIGKILL',
      told: true,
    },
  ] as const) {
    it(c.name, async () => {
      const proc = await child(c.ignoreTerm);
      let told = false;
      await stopChild(proc, c.timeoutMs, () => (told = true));
      assert.equal(proc.signalCode, c.signal);
      assert.equal(told, c.told);
    });
  }

  it('a child that has already exited resolves at once', async () => {
    const proc = await child(false);
    proc.kill('SIGKILL');
    await once(proc, 'exit');
    await stopChild(proc, 30_000);
    assert.equal(proc.signalCode, 'SIGKILL');
  });
});
