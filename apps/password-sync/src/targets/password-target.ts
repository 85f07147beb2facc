/** Why a password could not be applied; the same names as `PasswordSyncFailed.reason`. */
export type ApplyFailureStatus = 'user-not-found' | 'policy-violation' | 'target-unavailable' | 'target-error';

/**
 * What a target answered. `message` is the target's own reason (e.g. the directory's password
 * policy text) and never contains the password.
 */
export type ApplyResult = { readonly status: 'applied' } | { readonly status: ApplyFailureStatus; readonly message: string };

/**
 * The directory a password is written to. Implementations map every expected outcome to an
 * {@link ApplyResult} and do not throw for them; an unexpected fault becomes `target-error`.
 */
export abstract class PasswordTarget {
  /** Sets `userId`'s password. The caller zero-fills a Buffer after the promise settles. */
  abstract apply(userId: string, password: Buffer | string): Promise<ApplyResult>;
  /** A short, secret-free name for events and logs, e.g. `ldap://dir.example.com:389`. */
  abstract describe(): string;
  /** Releases connections; the default holds none. */
  async close(): Promise<void> {}
}

/** Removes any trace of the password from a message a target produced, belt and braces. */
export function redactPassword(message: string, password: Buffer | string): string {
  const secret = typeof password === 'string' ? password : password.toString('utf8');
  if (secret.length === 0 || !message.includes(secret)) return message;
  return message.split(secret).join('<redacted>');
}
