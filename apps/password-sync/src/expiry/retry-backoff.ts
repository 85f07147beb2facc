/** First retry delay after the target was unavailable. */
export const RETRY_BASE_MS = 5_000;
/** Longest delay between retries while the target stays unavailable. */
export const RETRY_CAP_MS = 5 * 60_000;

/**
 * Delay before retrying after the `unavailableStreak`-th consecutive `target-unavailable`:
 * 5 s, 10 s, 20 s … capped at 5 minutes, so an outage does not wait for the next modification.
 */
export function retryDelayMs(unavailableStreak: number): number {
  const n = Math.max(1, Math.floor(unavailableStreak));
  // 2^30 overflows nothing, and the cap is reached long before.
  return Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(n - 1, 30));
}
