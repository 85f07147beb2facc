/** What a secret value is shown as; never its length. */
export const SECRET_PLACEHOLDER = '[redacted]';

// Field names whose values are secrets or could let one be recovered (ciphertexts, keys, tokens).
const SECRET_FIELD = /pass(word)?|secret|token|cipher|credential|nonce|(^|_|-)key$|^key|authorization|^auth$/i;

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? SECRET_PLACEHOLDER : redactValue(v);
  return out;
}

/**
 * A stored payload made safe to show: every field whose name looks secret (password, secret,
 * token, cipher…, key, credential) is replaced by {@link SECRET_PLACEHOLDER} at any depth. JSON
 * comes back pretty-printed; text that is not JSON comes back as it is (the log never holds a
 * plaintext password by design; this is the second line of defence for structured payloads).
 */
export function redactPayload(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return JSON.stringify(redactValue(parsed), null, 2);
}
