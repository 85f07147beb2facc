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
  private readonly problemListeners: Array<(problem: string) => void> = [];

  /** Sets `userId`'s password. The caller zero-fills a Buffer after the promise settles. */
  abstract apply(userId: string, password: Buffer | string): Promise<ApplyResult>;
  /** A short, secret-free name for events and logs, e.g. `ldap://dir.example.com:389`. */
  abstract describe(): string;
  /** Releases connections; the default holds none. */
  async close(): Promise<void> {}

  /**
   * Registers a listener for failed attempts caused by the target's own configuration (service
   * account credentials or rights, TLS trust): the shell logs them as errors and counts them.
   * The message names the setting to fix and never contains a password.
   */
  onConfigurationProblem(listener: (problem: string) => void): void {
    this.problemListeners.push(listener);
  }

  /** For implementations: tells the listeners about a configuration problem. */
  protected reportConfigurationProblem(problem: string): void {
    for (const listener of this.problemListeners) listener(problem);
  }
}

/** The target is misconfigured; raised once at start. Never includes the bind password. */
export class PasswordTargetConfigError extends Error {
  override readonly name = 'PasswordTargetConfigError';
  readonly code = 'IDM_PASSWORD_TARGET_INVALID';
}
