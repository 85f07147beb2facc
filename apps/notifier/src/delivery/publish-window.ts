/**
 * Appends in flight while the send lanes go on sending: at most `limit` unacknowledged at once.
 * A lane that would exceed the limit waits for the oldest append (the stream acknowledges in the
 * order sent). The first failure is kept: lanes stop starting sends once {@link failed}, and the
 * tick rethrows it after {@link drain}, so the tick is retried and is never acked while an
 * outcome it reports is not stored.
 */
export class PublishWindow {
  private readonly inFlight: Promise<void>[] = [];
  private firstFailure: { readonly error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  /** True once an append failed. */
  get failed(): boolean {
    return this.firstFailure !== undefined;
  }

  /** The first append error, if any. */
  get failure(): { readonly error: unknown } | undefined {
    return this.firstFailure;
  }

  /** Tracks one email's append; `onStored` runs once it is stored. Waits while the window is full. */
  async add(append: Promise<void>, onStored: () => void): Promise<void> {
    this.inFlight.push(
      append.then(onStored, (error: unknown) => {
        this.firstFailure ??= { error };
      }),
    );
    while (this.inFlight.length > this.limit) await this.inFlight.shift();
  }

  /** Waits until every append tracked so far is stored or failed. Never rejects; see {@link failure}. */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await Promise.all(this.inFlight.splice(0));
  }
}
