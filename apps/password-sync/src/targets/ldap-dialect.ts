import { ResultCodeError } from 'ldapts';
import { errorMessage, redactSecrets } from '@idm/config';
import type { ApplyResult } from './password-target.js';

/** How passwords are written: RFC 3062 Password Modify (OpenLDAP & co.) or Active Directory's `unicodePwd`. */
export type LdapDialect = 'rfc3062' | 'active-directory';

/** `PASSWORD_TARGET_DIALECT`: a dialect, or `auto` to read the rootDSE once. */
export type LdapDialectSetting = LdapDialect | 'auto';

/** RFC 3062 Password Modify extended operation. */
export const PASSWORD_MODIFY_OID = '1.3.6.1.4.1.4203.1.11.1';
/** `LDAP_CAP_ACTIVE_DIRECTORY_OID` in the rootDSE's `supportedCapabilities` (AD and Samba AD). */
export const AD_CAPABILITY_OID = '1.2.840.113556.1.4.800';
/** Windows error `ERROR_PASSWORD_RESTRICTION`, at the start of AD's message for a password its policy refuses. */
export const AD_PASSWORD_RESTRICTION = '0000052D';

/** The user id attribute each dialect searches by unless `PASSWORD_TARGET_USER_ATTRIBUTE` says otherwise. */
export const DEFAULT_USER_ATTRIBUTE: Readonly<Record<LdapDialect, string>> = {
  rfc3062: 'uid',
  'active-directory': 'sAMAccountName',
};

const asList = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

/**
 * The dialect a server's rootDSE announces: Active Directory lists its capability OID in
 * `supportedCapabilities` (checked first: an AD never offers RFC 3062), an RFC 3062 server lists
 * the Password Modify OID in `supportedExtension`. Undefined when it says neither.
 */
export function dialectFromRootDse(rootDse: {
  readonly supportedCapabilities?: unknown;
  readonly supportedExtension?: unknown;
}): LdapDialect | undefined {
  if (asList(rootDse.supportedCapabilities).includes(AD_CAPABILITY_OID)) return 'active-directory';
  if (asList(rootDse.supportedExtension).includes(PASSWORD_MODIFY_OID)) return 'rfc3062';
  return undefined;
}

/**
 * The value AD requires in `unicodePwd`: the password in double quotes, UTF-16LE. Transcoded
 * byte by byte from the UTF-8 Buffer, so the password never becomes an immutable JS string that
 * cannot be wiped; the caller zero-fills the result. Malformed UTF-8 becomes U+FFFD.
 */
export function adUnicodePwd(secret: Buffer): Buffer {
  const out = Buffer.alloc((secret.length + 2) * 2);
  let o = 0;
  const unit = (u: number): void => {
    out.writeUInt16LE(u, o);
    o += 2;
  };
  unit(0x22);
  for (let i = 0; i < secret.length;) {
    const b = secret[i]!;
    const need = b < 0x80 ? 0 : b >= 0xf0 && b < 0xf8 ? 3 : b >= 0xe0 ? 2 : b >= 0xc2 && b < 0xe0 ? 1 : -1;
    let cp = need === 0 ? b : need === 1 ? b & 0x1f : need === 2 ? b & 0x0f : b & 0x07;
    let ok = need >= 0 && i + need < secret.length;
    for (let k = 1; ok && k <= need; k++) {
      const c = secret[i + k]!;
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are malformed too.
    if (ok && ((need === 2 && cp < 0x800) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (!ok) {
      unit(0xfffd);
      i += 1;
      continue;
    }
    if (cp >= 0x10000) {
      unit(0xd800 + ((cp - 0x10000) >> 10));
      unit(0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else unit(cp);
    i += need + 1;
  }
  unit(0x22);
  const result = Buffer.from(out.subarray(0, o));
  out.fill(0);
  return result;
}

/**
 * A mapped failure. `configurationProblem` is set when the answer is about the target's own set-up
 * (service account, rights, TLS), not about this user or password: the shell logs it as an error
 * and counts it, so an operator notices instead of reading it as a slow directory.
 */
export interface MappedFailure {
  readonly result: ApplyResult;
  readonly configurationProblem?: string;
}

// Result codes that mean "try again later" rather than "this password/user is wrong".
const UNAVAILABLE_CODES = new Set([
  3, // timeLimitExceeded
  11, // adminLimitExceeded
  51, // busy
  52, // unavailable
]);
const STRONG_AUTH_REQUIRED = 8;
const CONSTRAINT_VIOLATION = 19;
const NO_SUCH_OBJECT = 32;
const INVALID_CREDENTIALS = 49;
const INSUFFICIENT_ACCESS_RIGHTS = 50;
const UNWILLING_TO_PERFORM = 53;

/** ldapts appends " Code: 0x13" to the server's diagnostic message; the reason alone is what a user should read. */
function serverMessage(err: ResultCodeError): string {
  return err.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim() || err.name;
}

/** Node's TLS verification errors: a CA or server-name problem, not an outage. */
const TLS_ERROR = /^(ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|ERR_SSL_)/;

function connectionFailure(err: unknown, password: Buffer | string): MappedFailure {
  // Everything that is not an LDAP result is the connection: refused, reset, TLS, timed out.
  const code = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.name) : 'Error';
  const text = err instanceof Error ? `${code}: ${err.message.split('\n')[0]}` : errorMessage(err);
  const message = redactSecrets(text, [password]);
  if (TLS_ERROR.test(code)) {
    const problem = `TLS verification of the directory failed (${message}): check PASSWORD_TARGET_TLS_CA_FILE and PASSWORD_TARGET_TLS_SERVER_NAME`;
    return { result: { status: 'target-unavailable', message: problem }, configurationProblem: problem };
  }
  return { result: { status: 'target-unavailable', message } };
}

/**
 * Maps an ldapts failure of the RFC 3062 writer. Constraint violation → `policy-violation` (the
 * server's reason), no such object → `user-not-found`, busy/unavailable/limits →
 * `target-unavailable`, any other LDAP result → `target-error`, anything else (connection) →
 * `target-unavailable`. The password is redacted from every message.
 */
export function mapRfc3062Error(err: unknown, password: Buffer | string): MappedFailure {
  if (!(err instanceof ResultCodeError)) return connectionFailure(err, password);
  const message = redactSecrets(serverMessage(err), [password]);
  if (err.code === CONSTRAINT_VIOLATION) return { result: { status: 'policy-violation', message } };
  if (err.code === NO_SUCH_OBJECT) return { result: { status: 'user-not-found', message } };
  if (UNAVAILABLE_CODES.has(err.code)) return { result: { status: 'target-unavailable', message: `${err.name}: ${message}` } };
  return { result: { status: 'target-error', message: `${err.name} (${err.code}): ${message}` } };
}

/**
 * Maps Active Directory's answers (measured on Samba AD 4.17; Windows AD sends the same codes):
 *
 * | AD answer | outcome |
 * |---|---|
 * | any result whose message carries `0000052D` (19: too short, complexity, history, minimum age) | `policy-violation`, AD's message kept |
 * | 32 noSuchObject | `user-not-found` |
 * | 49 invalidCredentials (the service account) | `target-unavailable` + configuration problem |
 * | 50 insufficientAccessRights (no Reset Password right) | `target-unavailable` + configuration problem |
 * | 53 unwillingToPerform without `52D`, 8 strongAuthRequired (no encryption) | `target-unavailable` + configuration problem |
 * | TLS verification failure | `target-unavailable` + configuration problem |
 * | connection refused/reset, timeout; 3, 11, 51, 52 | `target-unavailable` |
 * | anything else (e.g. 19 without `52D`) | `target-error` |
 *
 * Configuration problems are `target-unavailable` so the password stays cached and is retried
 * with backoff once the operator fixed the account; AD's messages never contain the password
 * (redacted anyway).
 */
export function mapActiveDirectoryError(err: unknown, password: Buffer | string): MappedFailure {
  if (!(err instanceof ResultCodeError)) return connectionFailure(err, password);
  const message = redactSecrets(serverMessage(err), [password]);
  if (message.toUpperCase().includes(AD_PASSWORD_RESTRICTION)) return { result: { status: 'policy-violation', message } };
  if (err.code === NO_SUCH_OBJECT) return { result: { status: 'user-not-found', message } };
  const problem = configurationProblem(err.code, message);
  if (problem !== undefined) return { result: { status: 'target-unavailable', message: problem }, configurationProblem: problem };
  if (UNAVAILABLE_CODES.has(err.code)) return { result: { status: 'target-unavailable', message: `${err.name}: ${message}` } };
  return { result: { status: 'target-error', message: `${err.name} (${err.code}): ${message}` } };
}

function configurationProblem(code: number, message: string): string | undefined {
  switch (code) {
    case INVALID_CREDENTIALS:
      return `the directory refused the service account's credentials (49 invalidCredentials: ${message}): check PASSWORD_TARGET_BIND_DN and PASSWORD_TARGET_BIND_PASSWORD`;
    case INSUFFICIENT_ACCESS_RIGHTS:
      return `the service account may not reset this password (50 insufficientAccessRights: ${message}): grant it the Reset Password right on the users under PASSWORD_TARGET_BASE_DN`;
    case UNWILLING_TO_PERFORM:
      return `the directory is unwilling to set the password (53 unwillingToPerform: ${message}): Active Directory sets unicodePwd only over an encrypted connection (ldaps:// or PASSWORD_TARGET_STARTTLS=true)`;
    case STRONG_AUTH_REQUIRED:
      return `the directory requires an encrypted connection (8 strongAuthRequired: ${message}): use ldaps:// or PASSWORD_TARGET_STARTTLS=true`;
    default:
      return undefined;
  }
}
