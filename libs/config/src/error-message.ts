/**
 * The one-line message of anything thrown: an `Error`'s message, a thrown string as it is,
 * anything else as JSON (or `String()` when it cannot be serialised). Never the stack. It does not
 * redact: pass the result through `redactSecrets` / `redactUrls` when the error may quote a secret.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
