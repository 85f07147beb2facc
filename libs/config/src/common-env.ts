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
    .refine((v) => v.split(',').every((u) => /^(nats|tls|ws|wss):\/\/[^\s]+$/.test(u.trim())), 'must be one or more nats:// or tls:// URLs, comma-separated'),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_CREDS: z.string().optional(),
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
