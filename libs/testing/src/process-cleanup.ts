/**
 * Last-resort clean-up of servers started by the harnesses: when the test process exits (normally,
 * or on SIGINT / SIGTERM / SIGHUP), every registered task runs synchronously. Harnesses register
 * "SIGKILL the child, remove its temp dir" and unregister once they stopped cleanly.
 */
const tasks = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const task of [...tasks]) {
    tasks.delete(task);
    try {
      task();
    } catch {
      // Exit-time clean-up is best effort: one failing task must not keep the others from running.
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      runAll();
      process.removeListener(signal, onSignal);
      // Re-raise only when nobody else handles the signal, so the default "terminate" still happens.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Registers a synchronous clean-up task to run at process exit; returns a function that unregisters it. */
export function onProcessExit(task: () => void): () => void {
  install();
  tasks.add(task);
  return () => {
    tasks.delete(task);
  };
}
