import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from './harness-errors.js';

/**
 * Thrown by a {@link waitFor} predicate when the condition can never come true (the process it
 * waits on has exited, say): `waitFor` rethrows it at once instead of polling until its timeout.
 */
export class StopWaiting extends Error {
  override readonly name = 'StopWaiting';
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Pause between polls (default 50 ms). */
  readonly intervalMs?: number;
  /** What was awaited, for the timeout error. */
  readonly message?: string;
}

/**
 * Polls `predicate` until it returns a value other than `false`, `undefined` or `null`, and
 * returns that value. A predicate that throws counts as "not yet"; its last error becomes the
 * `cause` of the timeout error, except a {@link StopWaiting}, which ends the wait at once.
 *
 * For tests and harness start-up only — never to assert how long something takes.
 * @throws HarnessError with code `IDM_HARNESS_TIMEOUT` after `timeoutMs`.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<Exclude<T, false | undefined | null>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value !== false && value !== undefined && value !== null) return value as Exclude<T, false | undefined | null>;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const what = options.message ?? 'condition';
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new HarnessError('IDM_HARNESS_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}${why}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

/**
 * Lets every pending callback, thread-pool completion and microtask run `n` times over: long
 * enough for a promise that waits on nothing else to settle. For a spec that asserts something
 * did *not* happen (a promise still pending, no second call), where {@link waitFor} cannot help.
 */
export async function eventLoopTurns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}
