/**
 * A test harness could not provide its server: a binary is missing, the process exited early,
 * or it never became ready. The message says what to install or where the server's log is.
 */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  constructor(
    /** Stable code: `IDM_HARNESS_MISSING_BINARY`, `IDM_HARNESS_START_FAILED` or `IDM_HARNESS_TIMEOUT`. */
    readonly code: 'IDM_HARNESS_MISSING_BINARY' | 'IDM_HARNESS_START_FAILED' | 'IDM_HARNESS_TIMEOUT',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
