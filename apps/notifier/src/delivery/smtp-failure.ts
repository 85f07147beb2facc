import { redactSecrets } from '@idm/config';
/** What kind of failure a send met. */
export type SmtpFailureKind = 'smtp-reply' | 'rejected-recipient' | 'connection' | 'timeout' | 'tls' | 'auth' | 'other';

/**
 * A classified send failure. `permanent` means the same email would be refused again (a 5xx for
 * the recipient or message): it is abandoned. Everything else is retried on the next tick.
 */
export interface SmtpFailure {
  readonly permanent: boolean;
  readonly kind: SmtpFailureKind;
  readonly responseCode?: number;
  /** Human-readable, with credentials removed; goes into `EmailFailed.error`. */
  readonly message: string;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNECTION',
  'ESOCKET',
  'EDNS',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EPROXY',
]);

interface ErrorShape {
  readonly code?: unknown;
  readonly originalCode?: unknown;
  readonly responseCode?: unknown;
  readonly permanent?: unknown;
  readonly message?: unknown;
}

function isPermanentReply(responseCode: number): boolean {
  // RFC 5321: 5yz is a permanent negative reply, except 503 (bad sequence), which only says the
  // session was in the wrong state and may succeed on a fresh connection.
  return responseCode >= 500 && responseCode < 600 && responseCode !== 503;
}

/**
 * Classifies an error thrown by the SMTP client.
 *
 * 4xx replies, refused/reset connections, timeouts, TLS and authentication problems are
 * transient: the recipient is not at fault and the next tick may succeed once the server or the
 * configuration is fixed (the attempt/age limits bound the retries). A 5xx reply is permanent.
 */
export function classifySmtpFailure(error: unknown, secrets: readonly string[] = []): SmtpFailure {
  const e: ErrorShape = typeof error === 'object' && error !== null ? (error as ErrorShape) : { message: String(error) };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const originalCode = typeof e.originalCode === 'string' ? e.originalCode : undefined;
  const message = redactSecrets(typeof e.message === 'string' ? e.message : String(error), secrets);
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) {
    const permanent = isPermanentReply(e.responseCode);
    const kind: SmtpFailureKind = code === 'EAUTH' ? 'auth' : 'smtp-reply';
    // A rejected login is the sender's configuration, never the recipient's fault: retry after the fix.
    return { permanent: kind === 'auth' ? false : permanent, kind, responseCode: e.responseCode, message };
  }
  if (code === 'ETIMEDOUT' || originalCode === 'ETIMEDOUT') return { permanent: false, kind: 'timeout', message };
  if (code === 'ETLS') return { permanent: false, kind: 'tls', message };
  if (code === 'EAUTH' || code === 'ENOAUTH') return { permanent: false, kind: 'auth', message };
  if (/certificate|self[- ]signed|CERT_|ERR_TLS/i.test(`${code ?? ''} ${originalCode ?? ''} ${message}`))
    return { permanent: false, kind: 'tls', message };
  if ((code && CONNECTION_CODES.has(code)) || (originalCode && CONNECTION_CODES.has(originalCode)))
    return { permanent: false, kind: 'connection', message };
  return { permanent: false, kind: 'other', message };
}

/**
 * A send the server accepted for some recipients only counts as a permanent failure for the
 * rejected ones (each email has one recipient, so a rejection means this email failed).
 */
export function classifyRejectedRecipients(rejected: readonly string[], response: string, secrets: readonly string[] = []): SmtpFailure {
  return {
    permanent: true,
    kind: 'rejected-recipient',
    message: redactSecrets(`recipient rejected: ${rejected.join(', ')} (${response})`, secrets),
  };
}
