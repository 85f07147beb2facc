import { z } from 'zod';
import { readEnv } from '@idm/config';
import { databaseEnv } from '@idm/persistence';
import { loadCacheKey, type LoadedCacheKey } from './password-cache/cache-key.config.js';
import { resolveExpirationPolicy, type ExpirationPolicy } from './expiry/expiration-policy.js';
import { checkTargetConfig, passwordTargetEnv, type PasswordTargetConfig } from './targets/target-from-url.js';

/** Environment variables of password-sync (besides the messaging ones). */
export const passwordSyncEnv = {
  ...databaseEnv,
  IDM_EMBEDDED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  PASSWORD_CACHE_KEY: z.string().optional(),
  PASSWORD_CACHE_KEY_FILE: z.string().optional(),
  PASSWORD_CACHE_PREVIOUS_KEYS: z.string().optional(),
  PASSWORD_CACHE_RESEAL_INTERVAL_SECONDS: z.coerce.number().positive().max(86_400).default(60),
  // Read as text: the seed's rules turn a bad value into a default with a warning, not a refusal.
  PASSWORD_EXPIRATION_MINUTES: z.string().optional(),
  SOURCE_POLLING_INTERVAL_SECONDS: z.string().optional(),
  PASSWORD_SWEEP_INTERVAL_SECONDS: z.coerce.number().positive().max(3600).default(5),
  PASSWORD_FIRST_ATTEMPT_GRACE_SECONDS: z.coerce.number().positive().max(3600).default(30),
  PASSWORD_COMMAND_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default('password-sync'),
  ...passwordTargetEnv,
};

/** Everything password-sync needs at start, validated. */
export interface PasswordSyncConfig {
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /** Postgres schema (`DATABASE_SCHEMA`); default `password_sync`. */
  readonly schema?: string | undefined;
  readonly key: LoadedCacheKey;
  /** Pause between background re-seal passes after a key rotation; default 60 s. */
  readonly resealIntervalMs?: number;
  readonly policy: ExpirationPolicy;
  readonly target: PasswordTargetConfig;
  readonly sweepIntervalMs: number;
  /** After this long, an accepted password with no recorded attempt is attempted by the sweeper; default 30 s. */
  readonly firstAttemptGraceMs?: number;
  /** Queue group of the command subscription: replicas share the requests. */
  readonly commandQueue: string;
}

/**
 * Reads and validates the environment once.
 * @throws ConfigError naming every invalid variable (secrets redacted); CacheKeyError for the key.
 */
export function readPasswordSyncConfig(env: NodeJS.ProcessEnv = process.env): PasswordSyncConfig {
  const e = readEnv(passwordSyncEnv, env);
  checkTargetConfig(e);
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    schema: e.DATABASE_SCHEMA,
    key: loadCacheKey({
      PASSWORD_CACHE_KEY: e.PASSWORD_CACHE_KEY,
      PASSWORD_CACHE_KEY_FILE: e.PASSWORD_CACHE_KEY_FILE,
      PASSWORD_CACHE_PREVIOUS_KEYS: e.PASSWORD_CACHE_PREVIOUS_KEYS,
      embedded: e.IDM_EMBEDDED,
      dataDir: e.DATA_DIR,
    }),
    resealIntervalMs: Math.round(e.PASSWORD_CACHE_RESEAL_INTERVAL_SECONDS * 1000),
    policy: resolveExpirationPolicy(e),
    target: e,
    sweepIntervalMs: Math.round(e.PASSWORD_SWEEP_INTERVAL_SECONDS * 1000),
    firstAttemptGraceMs: Math.round(e.PASSWORD_FIRST_ATTEMPT_GRACE_SECONDS * 1000),
    commandQueue: e.PASSWORD_COMMAND_QUEUE,
  };
}
