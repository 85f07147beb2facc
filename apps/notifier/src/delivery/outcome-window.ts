/**
 * Outcomes being stored while the send lanes go on sending: at most `limit` not yet committed at
 * once. A lane that would exceed the limit waits for the oldest. The first failure is kept: lanes
 * stop starting sends once {@link failed}, and the tick rethrows it after {@link drain}, so the
 * tick is retried and is never acked while an outcome it reports is not stored.
 */
export class OutcomeWindow {
  private readonly inFlight: Promise<void>[] = [];
  private firstFailure: { readonly error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  /** True once storing an outcome failed. */
  get failed(): boolean {
    return this.firstFailure !== undefined;
  }

  /** The first error, if any. */
  get failure(): { readonly error: unknown } | undefined {
    return this.firstFailure;
  }

  /** Tracks one email's outcome; `onStored` gets its result once it is stored. Waits while the window is full. */
  async add<T>(storing: Promise<T>, onStored: (result: T) => void): Promise<void> {
    this.inFlight.push(
      storing.then(onStored, (error: unknown) => {
        this.firstFailure ??= { error };
      }),
    );
    while (this.inFlight.length > this.limit) await this.inFlight.shift();
  }

  /** Waits until every outcome tracked so far is stored or failed. Never rejects; see {@link failure}. */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await Promise.all(this.inFlight.splice(0));
  }
}
