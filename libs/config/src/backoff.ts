/** How long to wait before the next delivery after a transient failure. */
export interface BackoffPolicy {
  /** Delay after the first failed delivery. */
  readonly initialMs: number;
  /** Upper bound of the delay. */
  readonly maxMs: number;
  /** Growth per delivery. */
  readonly factor: number;
  /** Fraction of the delay randomised (0 = none, 0.2 = ±20 %), so replicas do not retry in lockstep. */
  readonly jitter: number;
}

/** 1 s, 2 s, 4 s … capped at 60 s, ±20 %. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 60_000, factor: 2, jitter: 0.2 };

/**
 * The delay before delivery `deliveryCount + 1`, given that delivery `deliveryCount` (1-based)
 * failed. `random` is injected so the result is reproducible in specs.
 */
export function backoffDelay(policy: BackoffPolicy, deliveryCount: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, deliveryCount - 1);
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(policy.maxMs, base + spread)));
}
