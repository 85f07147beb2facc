import { z } from 'zod';
import type { NatsConnection } from '@nats-io/nats-core';
import { LdapPasswordTarget } from './ldap-password-target.js';
import { NatsPasswordTarget } from './nats-password-target.js';
import type { PasswordTarget } from './password-target.js';

/** The target is misconfigured; raised once at start. Never includes the bind password. */
export class PasswordTargetConfigError extends Error {
  override readonly name = 'PasswordTargetConfigError';
  readonly code = 'IDM_PASSWORD_TARGET_INVALID';
}

/** Environment variables of the password target, for `readEnv`. */
export const passwordTargetEnv = {
  PASSWORD_TARGET: z
    .string()
    .refine((v) => /^(ldaps?:\/\/[^\s]+|nats:[A-Za-z0-9_$*>.-]+)$/.test(v), 'must be ldap://host[:port], ldaps://host[:port] or nats:<subject>'),
  PASSWORD_TARGET_BIND_DN: z.string().optional(),
  PASSWORD_TARGET_BIND_PASSWORD: z.string().optional(),
  PASSWORD_TARGET_BASE_DN: z.string().optional(),
  PASSWORD_TARGET_USER_ATTRIBUTE: z
    .string()
    .default('uid')
    .refine((v) => /^[A-Za-z][A-Za-z0-9-]*$/.test(v), 'must be an LDAP attribute name'),
  PASSWORD_TARGET_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  PASSWORD_TARGET_POOL_SIZE: z.coerce.number().int().min(1).max(256).default(8),
};

/** Parsed target settings. */
export interface PasswordTargetConfig {
  readonly PASSWORD_TARGET: string;
  readonly PASSWORD_TARGET_BIND_DN?: string | undefined;
  readonly PASSWORD_TARGET_BIND_PASSWORD?: string | undefined;
  readonly PASSWORD_TARGET_BASE_DN?: string | undefined;
  readonly PASSWORD_TARGET_USER_ATTRIBUTE: string;
  readonly PASSWORD_TARGET_TIMEOUT_MS: number;
  /** LDAP: bound connections kept and reused; default 8. */
  readonly PASSWORD_TARGET_POOL_SIZE?: number | undefined;
}

/**
 * Checks the settings a target needs, without connecting: for the start-up validation.
 * @throws PasswordTargetConfigError naming every missing setting.
 */
export function checkTargetConfig(config: PasswordTargetConfig): void {
  const url = config.PASSWORD_TARGET;
  if (url.startsWith('nats:')) return;
  if (!/^ldaps?:\/\//.test(url)) throw new PasswordTargetConfigError(`PASSWORD_TARGET must be ldap://, ldaps:// or nats:<subject>, got ${JSON.stringify(url)}`);
  const missing = (['PASSWORD_TARGET_BIND_DN', 'PASSWORD_TARGET_BIND_PASSWORD', 'PASSWORD_TARGET_BASE_DN'] as const).filter((k) => !config[k]);
  if (missing.length > 0) throw new PasswordTargetConfigError(`PASSWORD_TARGET=${url} needs ${missing.join(', ')}`);
}

/**
 * Chooses the connector by the `PASSWORD_TARGET` URL: `ldap://` / `ldaps://` → {@link LdapPasswordTarget}
 * (needs bind DN, bind password and base DN); `nats:<subject>` → {@link NatsPasswordTarget} on `nats`.
 * @throws PasswordTargetConfigError naming every missing setting.
 */
export function targetFromUrl(config: PasswordTargetConfig, deps: { readonly nats?: NatsConnection } = {}): PasswordTarget {
  const url = config.PASSWORD_TARGET;
  if (url.startsWith('nats:')) {
    if (!deps.nats) throw new PasswordTargetConfigError('PASSWORD_TARGET=nats:… needs a NATS connection');
    return new NatsPasswordTarget(deps.nats, url.slice('nats:'.length), config.PASSWORD_TARGET_TIMEOUT_MS);
  }
  checkTargetConfig(config);
  if (/^ldaps?:\/\//.test(url)) {
    return new LdapPasswordTarget({
      url,
      bindDn: config.PASSWORD_TARGET_BIND_DN!,
      bindPassword: config.PASSWORD_TARGET_BIND_PASSWORD!,
      baseDn: config.PASSWORD_TARGET_BASE_DN!,
      userAttribute: config.PASSWORD_TARGET_USER_ATTRIBUTE,
      timeoutMs: config.PASSWORD_TARGET_TIMEOUT_MS,
      ...(config.PASSWORD_TARGET_POOL_SIZE !== undefined ? { poolSize: config.PASSWORD_TARGET_POOL_SIZE } : {}),
    });
  }
  throw new PasswordTargetConfigError(`PASSWORD_TARGET must be ldap://, ldaps:// or nats:<subject>, got ${JSON.stringify(url)}`);
}
