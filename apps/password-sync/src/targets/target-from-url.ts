import { errorMessage } from '@idm/config';
import { readFileSync } from 'node:fs';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import type { NatsConnection } from '@nats-io/nats-core';
import { LdapPasswordTarget, type TargetLogger } from './ldap-password-target.js';
import { NatsPasswordTarget } from './nats-password-target.js';
import { PasswordTargetConfigError, type PasswordTarget } from './password-target.js';

export { PasswordTargetConfigError } from './password-target.js';

const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true');

/** Environment variables of the password target, for `readEnv`. */
export const passwordTargetEnv = {
  PASSWORD_TARGET: z
    .string()
    .refine(
      (v) => /^(ldaps?:\/\/[^\s]+|nats:[A-Za-z0-9_$*>.-]+)$/.test(v),
      'must be ldap://host[:port], ldaps://host[:port] or nats:<subject>',
    ),
  PASSWORD_TARGET_BIND_DN: z.string().optional(),
  PASSWORD_TARGET_BIND_PASSWORD: z.string().optional(),
  PASSWORD_TARGET_BASE_DN: z.string().optional(),
  PASSWORD_TARGET_DIALECT: z.enum(['rfc3062', 'active-directory', 'auto']).default('rfc3062'),
  PASSWORD_TARGET_USER_ATTRIBUTE: z
    .string()
    .refine((v) => /^[A-Za-z][A-Za-z0-9-]*$/.test(v), 'must be an LDAP attribute name')
    .optional(),
  PASSWORD_TARGET_USER_DN_TEMPLATE: z.string().min(1).optional(),
  PASSWORD_TARGET_STARTTLS: flag,
  PASSWORD_TARGET_MUST_CHANGE: flag,
  PASSWORD_TARGET_TLS_CA_FILE: z.string().min(1).optional(),
  PASSWORD_TARGET_TLS_SERVER_NAME: z.string().min(1).optional(),
  PASSWORD_TARGET_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  PASSWORD_TARGET_POOL_SIZE: z.coerce.number().int().min(1).max(256).default(8),
};

/** Parsed target settings. */
export interface PasswordTargetConfig {
  readonly PASSWORD_TARGET: string;
  readonly PASSWORD_TARGET_BIND_DN?: string | undefined;
  readonly PASSWORD_TARGET_BIND_PASSWORD?: string | undefined;
  readonly PASSWORD_TARGET_BASE_DN?: string | undefined;
  /** LDAP: `rfc3062` (default), `active-directory` or `auto` (rootDSE). */
  readonly PASSWORD_TARGET_DIALECT?: 'rfc3062' | 'active-directory' | 'auto' | undefined;
  /** Default by dialect: `uid`, or `sAMAccountName` for Active Directory. */
  readonly PASSWORD_TARGET_USER_ATTRIBUTE?: string | undefined;
  /** `uid={userId},ou=people,…`: the user's DN built, not searched (one LDAP operation per attempt). */
  readonly PASSWORD_TARGET_USER_DN_TEMPLATE?: string | undefined;
  readonly PASSWORD_TARGET_STARTTLS?: boolean | undefined;
  readonly PASSWORD_TARGET_MUST_CHANGE?: boolean | undefined;
  /** PEM file trusted in addition to the system store. */
  readonly PASSWORD_TARGET_TLS_CA_FILE?: string | undefined;
  /** The name the certificate must carry when it differs from the URL host. */
  readonly PASSWORD_TARGET_TLS_SERVER_NAME?: string | undefined;
  readonly PASSWORD_TARGET_TIMEOUT_MS: number;
  /** LDAP: bound connections kept and reused; default 8. */
  readonly PASSWORD_TARGET_POOL_SIZE?: number | undefined;
}

/**
 * TLS options for every LDAP target: the system store plus `PASSWORD_TARGET_TLS_CA_FILE`, and
 * `PASSWORD_TARGET_TLS_SERVER_NAME` as the name to verify (and send as SNI). Verification stays on.
 * @throws PasswordTargetConfigError when the CA file cannot be read or holds no certificate.
 */
export function ldapTlsOptions(config: PasswordTargetConfig): ConnectionOptions {
  const options: { ca?: string[]; servername?: string } = {};
  if (config.PASSWORD_TARGET_TLS_CA_FILE !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(config.PASSWORD_TARGET_TLS_CA_FILE, 'utf8');
    } catch (err) {
      throw new PasswordTargetConfigError(
        `PASSWORD_TARGET_TLS_CA_FILE=${config.PASSWORD_TARGET_TLS_CA_FILE} cannot be read: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new PasswordTargetConfigError(`PASSWORD_TARGET_TLS_CA_FILE=${config.PASSWORD_TARGET_TLS_CA_FILE} holds no PEM certificate`);
    // `ca` replaces Node's default store; keep the system's roots beside the extra CA.
    options.ca = [...rootCertificates, pem];
  }
  if (config.PASSWORD_TARGET_TLS_SERVER_NAME !== undefined) options.servername = config.PASSWORD_TARGET_TLS_SERVER_NAME;
  return options;
}

/**
 * Checks the settings a target needs, without connecting: for the start-up validation.
 * @throws PasswordTargetConfigError naming every missing setting, or why a combination is refused
 *   (Active Directory over plain LDAP, TLS settings without TLS, StartTLS on ldaps://…).
 */
export function checkTargetConfig(config: PasswordTargetConfig): void {
  const url = config.PASSWORD_TARGET;
  if (url.startsWith('nats:')) return;
  if (!/^ldaps?:\/\//.test(url))
    throw new PasswordTargetConfigError(`PASSWORD_TARGET must be ldap://, ldaps:// or nats:<subject>, got ${JSON.stringify(url)}`);
  const missing = (['PASSWORD_TARGET_BIND_DN', 'PASSWORD_TARGET_BIND_PASSWORD', 'PASSWORD_TARGET_BASE_DN'] as const).filter(
    (k) => !config[k],
  );
  if (missing.length > 0) throw new PasswordTargetConfigError(`PASSWORD_TARGET=${url} needs ${missing.join(', ')}`);
  const tls = url.startsWith('ldaps://') || config.PASSWORD_TARGET_STARTTLS === true;
  if (!tls && (config.PASSWORD_TARGET_TLS_CA_FILE !== undefined || config.PASSWORD_TARGET_TLS_SERVER_NAME !== undefined)) {
    throw new PasswordTargetConfigError(
      `PASSWORD_TARGET_TLS_CA_FILE / PASSWORD_TARGET_TLS_SERVER_NAME have no effect on plain ${url}: use ldaps:// or PASSWORD_TARGET_STARTTLS=true`,
    );
  }
  ldapTlsOptions(config);
  // The constructor refuses AD over plain LDAP, StartTLS on ldaps:// and MUST_CHANGE without AD.
  new LdapPasswordTarget(ldapOptions(config));
}

function ldapOptions(config: PasswordTargetConfig, logger?: TargetLogger): ConstructorParameters<typeof LdapPasswordTarget>[0] {
  return {
    url: config.PASSWORD_TARGET,
    bindDn: config.PASSWORD_TARGET_BIND_DN!,
    bindPassword: config.PASSWORD_TARGET_BIND_PASSWORD!,
    baseDn: config.PASSWORD_TARGET_BASE_DN!,
    dialect: config.PASSWORD_TARGET_DIALECT ?? 'rfc3062',
    ...(config.PASSWORD_TARGET_USER_ATTRIBUTE !== undefined ? { userAttribute: config.PASSWORD_TARGET_USER_ATTRIBUTE } : {}),
    ...(config.PASSWORD_TARGET_USER_DN_TEMPLATE !== undefined ? { userDnTemplate: config.PASSWORD_TARGET_USER_DN_TEMPLATE } : {}),
    startTls: config.PASSWORD_TARGET_STARTTLS === true,
    mustChange: config.PASSWORD_TARGET_MUST_CHANGE === true,
    tlsOptions: ldapTlsOptions(config),
    timeoutMs: config.PASSWORD_TARGET_TIMEOUT_MS,
    ...(config.PASSWORD_TARGET_POOL_SIZE !== undefined ? { poolSize: config.PASSWORD_TARGET_POOL_SIZE } : {}),
    ...(logger ? { logger } : {}),
  };
}

/**
 * Chooses the connector by the `PASSWORD_TARGET` URL: `ldap://` / `ldaps://` → {@link LdapPasswordTarget}
 * (needs bind DN, bind password and base DN; dialect, StartTLS and TLS settings as configured);
 * `nats:<subject>` → {@link NatsPasswordTarget} on `nats`.
 * @throws PasswordTargetConfigError naming every missing setting or refused combination.
 */
export function targetFromUrl(
  config: PasswordTargetConfig,
  deps: { readonly nats?: NatsConnection; readonly logger?: TargetLogger } = {},
): PasswordTarget {
  const url = config.PASSWORD_TARGET;
  if (url.startsWith('nats:')) {
    if (!deps.nats) throw new PasswordTargetConfigError('PASSWORD_TARGET=nats:… needs a NATS connection');
    return new NatsPasswordTarget(deps.nats, url.slice('nats:'.length), config.PASSWORD_TARGET_TIMEOUT_MS);
  }
  checkTargetConfig(config);
  return new LdapPasswordTarget(ldapOptions(config, deps.logger));
}
