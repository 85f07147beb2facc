import { redactFields } from '@idm/config';

/**
 * A stored payload made safe to show: every field whose name looks secret (password, secret,
 * token, cipher…, key, credential; `isSecretField` of `@idm/config`) is replaced by `[redacted]`
 * at any depth. JSON comes back pretty-printed; text that is not JSON comes back as it is (the log
 * never holds a plaintext password by design; this is the second line of defence for structured
 * payloads).
 */
export function redactPayload(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return JSON.stringify(redactFields(parsed), null, 2);
}
