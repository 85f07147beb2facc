import { z } from 'zod';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** Log levels accepted by `LOG_LEVEL`. */
export type LogLevel = (typeof logLevels)[number];

/**
 * Variables every app reads: NATS connection, stream name, database, data folder, log level.
 * See the README's configuration table for meanings and defaults.
 */
export const commonEnv = {
  NATS_URL: z
    .string()
    .default('nats://127.0.0.1:4222')
    .refine(
      (v) => v.split(',').every((u) => /^(nats|tls|ws|wss):\/\/[^\s]+$/.test(u.trim())),
      'must be one or more nats:// or tls:// URLs, comma-separated',
    ),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_CREDS: z.string().optional(),
  /** A file holding a user nkey seed (`SU…`), as written by `idm nats-config`. */
  NATS_NKEY_SEED_FILE: z.string().optional(),
  /**
   * Prefix of this client's reply subjects. Permissions grant each role only its own prefix
   * (`_INBOX.<role>`), so a role cannot read another's replies.
   */
  NATS_INBOX_PREFIX: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(v),
      'must be dot-separated tokens without wildcards, e.g. _INBOX.notifier',
    ),
  /** CA bundle that signed the NATS server certificate (PEM). */
  NATS_TLS_CA_FILE: z.string().optional(),
  /** Client certificate (PEM) for mutual TLS; needs NATS_TLS_KEY_FILE. */
  NATS_TLS_CERT_FILE: z.string().optional(),
  /** Private key (PEM) of NATS_TLS_CERT_FILE. */
  NATS_TLS_KEY_FILE: z.string().optional(),
  IDM_STREAM: z
    .string()
    .default('IDM_EVENTS')
    .refine((v) => /^[A-Za-z0-9_-]+$/.test(v), 'stream names may only contain letters, digits, - and _'),
  DATABASE_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL (leave unset for embedded SQLite)'),
  /** Postgres schema of the app's tables (default: the app's own, e.g. `notifier`); ignored on SQLite. */
  DATABASE_SCHEMA: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^[a-z_][a-z0-9_]{0,62}$/i.test(v), 'must be a plain Postgres identifier: letters, digits and _'),
  DATA_DIR: z.string().default('./.data'),
  LOG_LEVEL: z.enum(logLevels).default('info'),
};
