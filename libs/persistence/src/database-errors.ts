import { redactConnectionString, redactSecrets } from '@idm/config';

/**
 * Raised when the database cannot be reached (connection refused, reset, server shutting down,
 * too many connections). Always transient: the messaging layer naks and redelivers.
 * The message never contains a password; the original error is kept as `cause`.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  readonly code = 'IDM_DB_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Node socket error codes that mean "try again later". */
const transientErrnoCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Postgres SQLSTATEs worth a retry: serialization failure, deadlock, admin/crash shutdown,
 * cannot connect now, statement timeout (57014), too many connections (53300); plus class 08
 * (connection exceptions), matched by prefix below.
 */
const transientPostgresCodes = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '57014', '53300']);

/** pg raises these without a code when the socket dies or the pool cannot hand out a client. */
const transientMessages = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection is not established/i,
  /client has encountered a connection error/i,
];

/**
 * Whether retrying the same work later may succeed: a lost or refused connection,
 * a Postgres serialization failure / deadlock / shutdown / connection-class error / too many
 * connections, or SQLite BUSY / LOCKED. Follows `cause` and TypeORM's `driverError` chains.
 * Constraint violations, syntax errors and the like are permanent and return `false`.
 */
export function isTransientDatabaseError(err: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if (current instanceof DatabaseUnavailableError) return true;
    if (isTransientSingle(current)) return true;
    if (current instanceof AggregateError && current.errors.some((e) => isTransientDatabaseError(e))) return true;
    const driverError = (current as { driverError?: unknown }).driverError;
    if (driverError !== undefined && driverError !== current && isTransientDatabaseError(driverError)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function isTransientSingle(e: object): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (transientErrnoCodes.has(code)) return true;
    if (transientPostgresCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
  }
  const message = (e as { message?: unknown }).message;
  return typeof message === 'string' && transientMessages.some((re) => re.test(message));
}

/** Removes every occurrence of the URL (then of its password, raw and decoded) from a text. */
export function scrubSecret(text: string, url: string | undefined): string {
  if (url === undefined) return text;
  const out = text.split(url).join(redactConnectionString(url));
  let password: string;
  try {
    password = new URL(url).password;
  } catch {
    return out; // not a URL: the whole string was already replaced above
  }
  return redactSecrets(out, [password]);
}
