/**
 * Runs tasks with bounded concurrency while never running two tasks of the same key at once:
 * tasks of one key run one after another, in submission order; different keys run in parallel.
 * `acquire()` applies back-pressure to the producer (the pull loop) when `limit` tasks are queued
 * or running.
 */
export class KeyLanes {
  private readonly tails = new Map<string, Promise<void>>();
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError('KeyLanes limit must be at least 1');
  }

  /** Number of tasks queued or running. */
  get size(): number {
    return this.active;
  }

  /** Resolves when a slot is free. Call before {@link run}. */
  async acquire(): Promise<void> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.active++;
  }

  /** Queues `task` behind earlier tasks of `key`; releases the slot taken by {@link acquire} when done. Never rejects. */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(task).catch(() => undefined);
    this.tails.set(key, current);
    return current.finally(() => {
      if (this.tails.get(key) === current) this.tails.delete(key);
      this.active--;
      this.waiters.shift()?.();
      if (this.active === 0) this.idleWaiters.splice(0).forEach((r) => r());
    });
  }

  /** Resolves when nothing is queued or running. */
  async idle(): Promise<void> {
    if (this.active === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
