/**
 * Yields the items of several async iterables in the order they arrive; ends when all have ended,
 * and fails with the first error. Used to merge ordered consumers (one per filter subject).
 */
export async function* mergeAsync<T>(sources: ReadonlyArray<AsyncIterable<T>>): AsyncGenerator<T> {
  if (sources.length === 1) {
    yield* sources[0]!;
    return;
  }
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const next = (i: number): Promise<{ i: number; r: IteratorResult<T> }> => iterators[i]!.next().then((r) => ({ i, r }));
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>(iterators.map((_, i) => [i, next(i)]));
  while (pending.size > 0) {
    const { i, r } = await Promise.race(pending.values());
    if (r.done) {
      pending.delete(i);
      continue;
    }
    pending.set(i, next(i));
    yield r.value;
  }
}
