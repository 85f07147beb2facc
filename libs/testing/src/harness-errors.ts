/**
 * A test harness could not provide its server: a binary is missing, the process exited early,
 * or it never became ready. The message says what to install or where the server's log is.
 * `IDM_HARNESS_NO_SERIES`: a metric series a test reads is not exposed (`metricValue`).
 */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  constructor(
    /** Stable code: `IDM_HARNESS_MISSING_BINARY`, `IDM_HARNESS_START_FAILED`, `IDM_HARNESS_TIMEOUT` or `IDM_HARNESS_NO_SERIES`. */
    readonly code: 'IDM_HARNESS_MISSING_BINARY' | 'IDM_HARNESS_START_FAILED' | 'IDM_HARNESS_TIMEOUT' | 'IDM_HARNESS_NO_SERIES',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
