/**
 * Thrown by a handler when an event can never be handled as it is (a business rule says so, or
 * its content is unusable). The transport writes a dead-letter record and terminates the message:
 * it is not redelivered.
 */
export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
  readonly code: string;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code ?? 'IDM_PERMANENT_FAILURE';
  }
}

/**
 * Marks a failure as transient explicitly (DB down, SMTP 4xx, directory unavailable, timeout).
 * Any error that is not a {@link PermanentError} is already treated as transient; use this class
 * to add a stable code for logs and metrics.
 */
export class TransientError extends Error {
  override readonly name: string = 'TransientError';
  readonly code: string;
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code ?? 'IDM_TRANSIENT_FAILURE';
  }
}

/**
 * An optimistic-concurrency publish lost: the subject's last sequence was not the expected one,
 * because another writer appended first. Re-read and decide again.
 */
export class WrongLastSequenceError extends Error {
  override readonly name = 'WrongLastSequenceError';
  readonly code = 'IDM_WRONG_LAST_SEQUENCE';
  constructor(
    readonly subject: string,
    readonly expected: number,
    options?: { cause?: unknown },
  ) {
    super(`the last sequence on ${subject} is not ${expected}: another writer appended first`, options);
  }
}

/** The NATS server or JetStream could not be reached or did not answer in time. */
export class MessagingUnavailableError extends TransientError {
  override readonly name = 'MessagingUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'IDM_MESSAGING_UNAVAILABLE' });
  }
}

/**
 * The stream or consumer a service needs does not exist (or is out of date) and this NATS
 * identity is not allowed to create or change it. Not transient: an operator runs `idm setup`
 * with the admin identity (or gives the service the permission), then restarts the service.
 */
export class MessagingSetupError extends Error {
  override readonly name = 'MessagingSetupError';
  readonly code = 'IDM_MESSAGING_NOT_SET_UP';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What the server refused: a publish (or request) to `subject`, or a subscription to it. */
export interface PermissionViolation {
  readonly operation: 'publish' | 'subscription';
  readonly subject: string;
}

/**
 * The server's `Permissions Violation` behind an error, if that is what it is: nats.js raises a
 * `PermissionViolationError`, or a `RequestError` with it as the cause (a request whose reply
 * subscription was refused).
 */
export function permissionViolationOf(err: unknown): PermissionViolation | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const m = /Permissions Violation for (Publish|Subscription) to "?([^"\s]+)"?/i.exec(e.message);
    if (e.name === 'PermissionViolationError' || m) {
      const fields = e as Error & { operation?: unknown; subject?: unknown };
      const operation = fields.operation === 'subscription' || m?.[1]?.toLowerCase() === 'subscription' ? 'subscription' : 'publish';
      return { operation, subject: typeof fields.subject === 'string' ? fields.subject : (m?.[2] ?? '') };
    }
  }
  return undefined;
}

/** True for the server's `Permissions Violation` answer to a publish, request or subscription. */
export function isPermissionViolation(err: unknown): boolean {
  return permissionViolationOf(err) !== undefined;
}

/** A stable error code for logs, metrics and dead-letter records. */
export function errorCode(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') return String(code);
  }
  return error instanceof Error ? error.name : 'UNKNOWN';
}
