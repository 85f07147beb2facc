// The one place secrets are hidden before text or data reaches a log, an error, an event, a
// metric or a page. Two placeholders, one rule: a secret inside text becomes `***` (the text
// stays readable); a whole value of a secret-named field or variable becomes `[redacted]`.

/** What a secret found inside text (a URL's password, a password quoted by a server) becomes. */
export const MASK = '***';

/** What the whole value of a secret field or variable becomes; never its length. */
export const REDACTED = '[redacted]';

// scheme://user:password@host → scheme://user:***@host; also a bare scheme://token@host.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]+)(?::([^\s/@]*))?@/gi;

/**
 * Replaces the credentials of every URL in a text (`smtp://user:secret@host` →
 * `smtp://user:***@host`, `nats://token@host` → `nats://***@host`). For free text that may quote
 * URLs: error messages, log lines, configuration values.
 */
export function redactUrls(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, user: string, pass: string | undefined) =>
    pass === undefined ? `${scheme}${MASK}@` : `${scheme}${user}:${MASK}@`,
  );
}

/**
 * One connection URL made safe to log: its password, and every query parameter whose name looks
 * secret (`password=`, `sslkey=`, `token=`), become `***`. Input that is not a URL is reduced to
 * its scheme, because it may still hold a secret.
 */
export function redactConnectionString(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = MASK;
    parsed.searchParams.forEach((_value, key) => {
      if (/pass|secret|key|token/i.test(key)) parsed.searchParams.set(key, MASK);
    });
    return parsed.toString();
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? '';
    return `${scheme}//<unparseable, redacted>`;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Replaces every occurrence of each secret in a text by `***`, in its raw, percent-encoded and
 * percent-decoded forms (a server may quote a password either way). For messages produced by a
 * server or a library that was handed the secret. Empty secrets are ignored.
 */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | Buffer>): string {
  let out = text;
  for (const secret of secrets) {
    const raw = typeof secret === 'string' ? secret : secret.toString('utf8');
    for (const form of new Set([raw, encodeURIComponent(raw), safeDecode(raw)])) {
      if (form.length > 0) out = out.split(form).join(MASK);
    }
  }
  return out;
}

// Field names whose values are secrets or could let one be recovered (ciphertexts, keys, tokens).
const SECRET_FIELD = /pass(word)?|secret|token|cipher|credential|nonce|(^|_|-)key$|^key|authorization|^auth$/i;
// Environment variable names whose values are secrets (PASSWORD_CACHE_KEY, NATS_CREDS, CONSOLE_TOKEN).
const SECRET_VARIABLE = /PASSWORD|SECRET|KEY|CREDS|TOKEN/;

/** Whether a field of structured data (an event payload, a log field) holds a secret, by its name. */
export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

/** Whether an environment variable holds a secret, by its name (then its value is never echoed). */
export function isSecretVariable(name: string): boolean {
  return SECRET_VARIABLE.test(name);
}

/**
 * A deep copy of JSON-like data with the value of every secret-named field ({@link isSecretField})
 * replaced by `[redacted]`, at any depth and inside arrays. Other values are kept as they are.
 */
export function redactFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactFields);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretField(k) ? REDACTED : redactFields(v);
  return out;
}
