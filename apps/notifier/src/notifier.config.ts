import { z } from 'zod';
import { commonEnv, ConfigError, readEnv, type EnvOf } from '@idm/config';
import { leaseSettingsProblem, type LeaseSettings } from './instance-lease/claim-lease.js';
import { loadEmailRules, type EmailRules } from './email-rules/email-rules.config.js';
import type { DeliveryLimits } from './delivery/delivery.decider.js';
import { parseMailFrom, parseSmtpUrl, type SmtpSettings } from './delivery/smtp-settings.js';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * The notifier's environment. `SMTP_URL` is read as an opaque string here and parsed by
 * `parseSmtpUrl`, whose errors redact credentials (the generic reader would echo the value).
 */
export const notifierEnv = {
  ...commonEnv,
  SMTP_URL: z.string({ message: 'required: smtp://user:pass@host:port or smtps://…' }),
  MAIL_FROM: z.string({ message: 'required: the sender address, e.g. "IDM <noreply@example.com>"' }),
  SMTP_TLS_REJECT_UNAUTHORIZED: z.enum(['true', 'false']).default('true'),
  SMTP_MAX_CONNECTIONS: positiveInt(8),
  SMTP_CONNECTION_TIMEOUT_MS: positiveInt(10_000),
  SMTP_GREETING_TIMEOUT_MS: positiveInt(10_000),
  SMTP_SOCKET_TIMEOUT_MS: positiveInt(60_000),
  /**
   * Worker threads that compose and send the emails, each with its own pool and a share of
   * `SMTP_MAX_CONNECTIONS` (at most one thread per connection). 0 = on the main thread. Default 0:
   * measured on 2 cores, one thread takes about two thirds of the main thread's CPU per email off
   * it at no extra CPU in total, but costs 14–78 MB more memory and showed no steady gain in
   * drain rate there (notifier README).
   */
  SMTP_WORKERS: z.coerce.number().int().min(0).max(16).default(0),
  /** Unset = `SMTP_MAX_CONNECTIONS`: one send in flight per pooled connection, neither waiting on the other. */
  EMAIL_SEND_CONCURRENCY: z.coerce.number().int().positive().optional(),
  EMAIL_MAX_ATTEMPTS: positiveInt(50),
  EMAIL_MAX_AGE_HOURS: positiveInt(72),
  EMAIL_CLAIM_TTL_SECONDS: positiveInt(900),
  /** Stable id of this replica (pod name); unset = random per start. Must be unique among running replicas. */
  NOTIFIER_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-", at most 64')
    .optional(),
  NOTIFIER_LEASE_TIMEOUT_SECONDS: positiveInt(30),
  NOTIFIER_LEASE_HEARTBEAT_SECONDS: positiveInt(10),
  EMAIL_RETRY_TASK: z.string().min(1).default('RetryEmailNotifications'),
  EMAIL_RULES: z.string().optional(),
  EMAIL_RULES_FILE: z.string().optional(),
  TEMPLATES_DIR: z.string().optional(),
};

/** The validated notifier configuration. */
export interface NotifierConfig {
  /** Every variable, typed (NATS, database, …). */
  readonly env: EnvOf<typeof notifierEnv>;
  readonly smtp: SmtpSettings;
  /** `SMTP_WORKERS`: threads that send (0, the default = the main thread sends). */
  readonly smtpWorkers: number;
  readonly rules: EmailRules;
  readonly templatesDir: string | undefined;
  readonly limits: DeliveryLimits;
  readonly sendConcurrency: number;
  readonly claimTtlMs: number;
  /** Instance lease timing (claims die with their owner's lease). */
  readonly lease: LeaseSettings;
  /** `NOTIFIER_INSTANCE_ID`, or undefined for a random id per start. */
  readonly instanceId: string | undefined;
  /** The bulk task whose ticks send the pending emails (the recipe's `RetryEmailNotifications`). */
  readonly retryTask: string;
}

/**
 * Reads and validates the notifier configuration once at start.
 * @throws ConfigError / SmtpConfigError / EmailRulesError with a message naming the variable.
 */
export function readNotifierConfig(source: NodeJS.ProcessEnv = process.env): NotifierConfig {
  const env = readEnv(notifierEnv, source);
  const endpoint = parseSmtpUrl(env.SMTP_URL);
  parseMailFrom(env.MAIL_FROM);
  const lease: LeaseSettings = {
    leaseTimeoutMs: env.NOTIFIER_LEASE_TIMEOUT_SECONDS * 1000,
    heartbeatMs: env.NOTIFIER_LEASE_HEARTBEAT_SECONDS * 1000,
    claimTtlMs: env.EMAIL_CLAIM_TTL_SECONDS * 1000,
  };
  const leaseProblem = leaseSettingsProblem(lease);
  if (leaseProblem) throw new ConfigError([leaseProblem]);
  return {
    env,
    smtp: {
      ...endpoint,
      from: env.MAIL_FROM,
      rejectUnauthorized: env.SMTP_TLS_REJECT_UNAUTHORIZED !== 'false',
      maxConnections: env.SMTP_MAX_CONNECTIONS,
      connectionTimeoutMs: env.SMTP_CONNECTION_TIMEOUT_MS,
      greetingTimeoutMs: env.SMTP_GREETING_TIMEOUT_MS,
      socketTimeoutMs: env.SMTP_SOCKET_TIMEOUT_MS,
    },
    smtpWorkers: env.SMTP_WORKERS,
    rules: loadEmailRules({ EMAIL_RULES: env.EMAIL_RULES, EMAIL_RULES_FILE: env.EMAIL_RULES_FILE }),
    templatesDir: env.TEMPLATES_DIR,
    limits: { maxAttempts: env.EMAIL_MAX_ATTEMPTS, maxAgeMs: env.EMAIL_MAX_AGE_HOURS * 3_600_000 },
    sendConcurrency: env.EMAIL_SEND_CONCURRENCY ?? env.SMTP_MAX_CONNECTIONS,
    claimTtlMs: env.EMAIL_CLAIM_TTL_SECONDS * 1000,
    lease,
    instanceId: env.NOTIFIER_INSTANCE_ID,
    retryTask: env.EMAIL_RETRY_TASK,
  };
}
