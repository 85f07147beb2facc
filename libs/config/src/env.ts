import { z } from 'zod';
import { isSecretVariable, REDACTED, redactUrls } from './redact.js';

/**
 * Raised once at start when an environment variable is missing or malformed.
 * The message names every offending variable so an operator can fix them in one go.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'IDM_CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** A map of environment variable name → zod schema describing its value. */
export type EnvShape = Record<string, z.ZodType>;

/** The parsed, typed result of {@link readEnv} for a given shape. */
export type EnvOf<S extends EnvShape> = { [K in keyof S]: z.output<S[K]> };

/**
 * Validates environment variables against a shape, once, at start.
 *
 * Empty strings count as unset, so `FOO=` in a compose file falls back to the default.
 * @throws ConfigError naming every invalid variable and why.
 */
export function readEnv<S extends EnvShape>(shape: S, env: NodeJS.ProcessEnv = process.env): EnvOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, schema] of Object.entries(shape)) {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? undefined : raw;
    const parsed = schema.safeParse(value);
    if (parsed.success) out[name] = parsed.data;
    else problems.push(`${name}: ${parsed.error.issues.map((i) => i.message).join('; ')} (got ${describe(name, value)})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as EnvOf<S>;
}

/** Never echo secrets back in an error message. */
function describe(name: string, value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (isSecretVariable(name)) return REDACTED;
  // URLs (DATABASE_URL, NATS_URL, SMTP_URL) may carry user:password@.
  return JSON.stringify(redactUrls(value));
}
