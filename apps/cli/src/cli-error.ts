import type { OperationsError, OperationsErrorCode } from '@idm/operations';

/** A failure the CLI reports as one clear line and a non-zero exit; never a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** Stable code, e.g. `IDM_CLI_USAGE`, `IDM_CLI_UNREACHABLE`, `IDM_CLI_NOT_FOUND`. */
    readonly code: CliErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Usage errors exit 2 (like most tools), everything else 1. */
  get exitCode(): number {
    return this.code === 'IDM_CLI_USAGE' ? 2 : 1;
  }
}

/** Every code the CLI may fail with. */
export type CliErrorCode = 'IDM_CLI_USAGE' | 'IDM_CLI_UNREACHABLE' | 'IDM_CLI_NOT_FOUND' | 'IDM_CLI_REFUSED' | 'IDM_CLI_FAILED';

/** An {@link OperationsError} (shared with the console) as the CLI reports it. */
export function fromOperationsError(err: OperationsError): CliError {
  const code: Record<OperationsErrorCode, CliErrorCode> = {
    IDM_OPS_NOT_FOUND: 'IDM_CLI_NOT_FOUND',
    IDM_OPS_UNREACHABLE: 'IDM_CLI_UNREACHABLE',
    IDM_OPS_REFUSED: 'IDM_CLI_REFUSED',
    IDM_OPS_USAGE: 'IDM_CLI_USAGE',
  };
  return new CliError(err.message, code[err.code], { cause: err });
}

/** A usage error (bad flag, missing argument). */
export const usage = (message: string): CliError => new CliError(message, 'IDM_CLI_USAGE');
