/**
 * Field paths pino removes from every log record, wherever a caller put a secret by mistake:
 * passwords, SMTP / LDAP / NATS credentials, cache keys, tokens. `*` matches one level.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'pass',
  'secret',
  'token',
  'key',
  'auth',
  'bindPassword',
  'PASSWORD_TARGET_BIND_PASSWORD',
  'PASSWORD_CACHE_KEY',
  'NATS_PASSWORD',
  'SMTP_URL',
  'headers.authorization',
  '*.password',
  '*.pass',
  '*.secret',
  '*.token',
  '*.key',
  '*.auth',
  '*.bindPassword',
  '*.PASSWORD_TARGET_BIND_PASSWORD',
  '*.PASSWORD_CACHE_KEY',
  '*.NATS_PASSWORD',
];

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

// scheme://user:password@host → scheme://user:***@host; also a bare scheme://token@host.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@]+)(?::([^\s/@]*))?@/gi;

/**
 * Replaces the credentials of every URL in `text` (`smtp://user:secret@host` →
 * `smtp://user:***@host`). Free text such as an error message may quote a URL; this is the
 * second line of defence after {@link REDACT_PATHS}, which only sees field names.
 */
export function scrubUrls(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, user: string, pass: string | undefined) =>
    pass === undefined ? `${scheme}***@` : `${scheme}${user}:***@`,
  );
}

/** Deep copy of `value` with every string passed through {@link scrubUrls}; cycles become `[circular]`. */
export function scrubDeep(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return scrubUrls(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Error) {
    return {
      type: value.name,
      message: scrubUrls(value.message),
      ...(value.stack ? { stack: scrubUrls(value.stack) } : {}),
      ...('code' in value ? { code: (value as { code: unknown }).code } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, seen));
  if (Buffer.isBuffer(value)) return REDACTED;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, seen);
  return out;
}
