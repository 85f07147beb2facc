import type { ChildProcess } from 'node:child_process';

/**
 * Stops a spec's child process as an orchestrator would: SIGTERM, then SIGKILL if it has not
 * exited within `timeoutMs` (`onKill` is told first, e.g. to report a shutdown that hangs).
 * Resolves once the process has exited, at once if it already had; never rejects.
 */
export async function stopChild(child: ChildProcess, timeoutMs: number, onKill?: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    onKill?.();
    child.kill('SIGKILL');
  }, timeoutMs);
  await exited;
  clearTimeout(timer);
}
