/** Stable codes of the operations errors. */
export type OperationsErrorCode = 'IDM_OPS_NOT_FOUND' | 'IDM_OPS_UNREACHABLE' | 'IDM_OPS_REFUSED' | 'IDM_OPS_USAGE';

/**
 * A query or action an operator asked for could not be done. `code` says why in a stable way
 * (the CLI maps it to an exit code, the console to an HTTP status).
 */
export class OperationsError extends Error {
  override readonly name = 'OperationsError';
  constructor(
    message: string,
    readonly code: OperationsErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
