import { Cron } from 'croner';
import { z } from 'zod';
import { commonEnv, ConfigError, errorMessage, readEnv } from '@idm/config';
import { DIALECT_DEFAULTS, sourceDialects, type SourceDialect } from './directory/dialect.js';
import type { LdapSourceSettings } from './directory/ldap-directory-reader.js';
import type { PollSettings } from './poller/poll.service.js';

const attributeName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'must be an LDAP attribute name');

/** Environment variables of the directory source (besides the messaging ones). */
export const directorySourceEnv = {
  DATABASE_URL: commonEnv.DATABASE_URL,
  DATA_DIR: commonEnv.DATA_DIR,
  SOURCE_URL: z.string().regex(/^ldaps?:\/\/[^\s]+$/, 'must be ldap://host[:port] or ldaps://host[:port]'),
  SOURCE_STARTTLS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  SOURCE_BIND_DN: z.string().min(1),
  SOURCE_BIND_PASSWORD: z.string().min(1),
  SOURCE_BASE_DN: z.string().min(1),
  SOURCE_DIALECT: z.enum([...sourceDialects, 'auto']).default('auto'),
  SOURCE_USER_FILTER: z
    .string()
    .regex(/^\(.*\)$/, 'must be an LDAP filter in parentheses')
    .optional(),
  SOURCE_USER_ID_ATTRIBUTE: attributeName.optional(),
  SOURCE_EMAIL_ATTRIBUTE: attributeName.default('mail'),
  SOURCE_DISPLAY_NAME_ATTRIBUTE: attributeName.default('displayName'),
  SOURCE_ATTRIBUTES: z
    .string()
    .default('givenName,sn,title,telephoneNumber')
    .transform((v) =>
      v
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== ''),
    )
    .refine((list) => list.every((a) => /^[A-Za-z][A-Za-z0-9-]*$/.test(a)), 'must be a comma-separated list of LDAP attribute names'),
  SOURCE_TLS_CA_FILE: z.string().optional(),
  SOURCE_TLS_SERVER_NAME: z.string().optional(),
  SOURCE_POLLING_INTERVAL_SECONDS: z.coerce.number().positive().max(86_400).default(60),
  SOURCE_FULL_SCAN_CRON: z.string().default('0 3 * * *'),
  SOURCE_INITIAL_SYNC: z.enum(['baseline', 'emit']).default('baseline'),
  SOURCE_CHANGE_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  SOURCE_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  SOURCE_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  SOURCE_UNREADY_AFTER_FAILURES: z.coerce.number().int().min(1).default(3),
  SOURCE_REMOVAL_GUARD_PERCENT: z.coerce.number().min(0).max(100).default(20),
};

/** Everything the directory source needs at start, validated. */
export interface DirectorySourceConfig {
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /** Postgres schema override (tests); default `directory_source`. */
  readonly schema?: string | undefined;
  readonly ldap: LdapSourceSettings;
  readonly poll: PollSettings;
  readonly intervalMs: number;
  /** Consecutive failed polls after which readiness turns false. */
  readonly unreadyAfterFailures: number;
}

/**
 * Reads and validates the environment once.
 * @throws ConfigError naming every invalid variable (the bind password is never echoed).
 */
export function readDirectorySourceConfig(env: NodeJS.ProcessEnv = process.env): DirectorySourceConfig {
  const e = readEnv(directorySourceEnv, env);
  try {
    new Cron(e.SOURCE_FULL_SCAN_CRON, { paused: true });
  } catch (err) {
    throw new ConfigError([`SOURCE_FULL_SCAN_CRON: not a cron expression (${errorMessage(err)})`]);
  }
  if (e.SOURCE_STARTTLS && e.SOURCE_URL.startsWith('ldaps:'))
    throw new ConfigError(['SOURCE_STARTTLS: StartTLS needs an ldap:// SOURCE_URL (ldaps:// is TLS already)']);
  const fixedDialect: SourceDialect | 'auto' = e.SOURCE_DIALECT;
  const userFilter = (dialect: SourceDialect): string => e.SOURCE_USER_FILTER ?? DIALECT_DEFAULTS[dialect].userFilter;
  // With `auto` the id attribute follows the dialect found; an explicit setting wins.
  const userIdAttribute =
    e.SOURCE_USER_ID_ATTRIBUTE ?? (fixedDialect === 'auto' ? undefined : DIALECT_DEFAULTS[fixedDialect].userIdAttribute);
  const idAttributes = userIdAttribute ? [userIdAttribute] : Object.values(DIALECT_DEFAULTS).map((d) => d.userIdAttribute);
  const mapping = {
    ...(userIdAttribute ? { userIdAttribute } : {}),
    emailAttribute: e.SOURCE_EMAIL_ATTRIBUTE,
    displayNameAttribute: e.SOURCE_DISPLAY_NAME_ATTRIBUTE,
    reportedAttributes: e.SOURCE_ATTRIBUTES,
  };
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    ldap: {
      url: e.SOURCE_URL,
      startTls: e.SOURCE_STARTTLS,
      bindDn: e.SOURCE_BIND_DN,
      bindPassword: e.SOURCE_BIND_PASSWORD,
      baseDn: e.SOURCE_BASE_DN,
      dialect: fixedDialect,
      userFilter,
      attributes: [...new Set([...idAttributes, e.SOURCE_EMAIL_ATTRIBUTE, e.SOURCE_DISPLAY_NAME_ATTRIBUTE, ...e.SOURCE_ATTRIBUTES])],
      pageSize: e.SOURCE_PAGE_SIZE,
      overlapSeconds: e.SOURCE_CHANGE_OVERLAP_SECONDS,
      timeoutMs: e.SOURCE_TIMEOUT_MS,
      tlsCaFile: e.SOURCE_TLS_CA_FILE,
      tlsServerName: e.SOURCE_TLS_SERVER_NAME,
    },
    poll: {
      mapping,
      fullScanCron: e.SOURCE_FULL_SCAN_CRON,
      initialSync: e.SOURCE_INITIAL_SYNC,
      source: '/idm/directory-source',
      publishConcurrency: 64,
      removalGuardPercent: e.SOURCE_REMOVAL_GUARD_PERCENT,
    },
    intervalMs: Math.round(e.SOURCE_POLLING_INTERVAL_SECONDS * 1000),
    unreadyAfterFailures: e.SOURCE_UNREADY_AFTER_FAILURES,
  };
}
