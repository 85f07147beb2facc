import { REDACTED, redactUrls } from '@idm/config';

/**
 * Field paths pino removes from every log record, wherever a caller put a secret by mistake:
 * passwords, SMTP / LDAP / NATS credentials, cache keys, tokens. `*` matches one level. The
 * helpers themselves live in `@idm/config` (`redactUrls`, `REDACTED`), the one redaction module.
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

/** Deep copy of `value` with every string passed through `redactUrls`; cycles become `[circular]`. */
export function scrubDeep(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactUrls(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Error) {
    return {
      type: value.name,
      message: redactUrls(value.message),
      ...(value.stack ? { stack: redactUrls(value.stack) } : {}),
      ...('code' in value ? { code: (value as { code: unknown }).code } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, seen));
  if (Buffer.isBuffer(value)) return REDACTED;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, seen);
  return out;
}
