import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { MessagingUnavailableError } from './errors.js';

/** How to reach NATS. Mirrors the `NATS_*` environment variables. */
export interface NatsConnectionConfig {
  /** One or more `nats://` URLs, comma-separated. */
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
  /** Path to a `.creds` file (JWT + nkey seed). */
  readonly creds?: string;
  /** Connection name shown in the server's monitoring, e.g. `idm-notifier`. */
  readonly name: string;
  /** Give up the *first* connect after this many ms (default 10 s). Reconnects never give up. */
  readonly connectTimeoutMs?: number;
}

/**
 * Connects to NATS with reconnects that never give up: a running service rides out a server
 * restart. The first connect fails fast with {@link MessagingUnavailableError} naming the URL
 * (never the credentials).
 */
export async function connectNats(config: NatsConnectionConfig): Promise<NatsConnection> {
  const servers = config.url.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    return await connect({
      servers,
      name: config.name,
      ...(config.user ? { user: config.user, pass: config.password ?? '' } : {}),
      ...(config.creds ? { authenticator: credsAuthenticator(readFileSync(config.creds)) } : {}),
      timeout: config.connectTimeoutMs ?? 10_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: false,
    });
  } catch (cause) {
    throw new MessagingUnavailableError(`cannot connect to NATS at ${servers.map(redactUrl).join(', ')}: ${(cause as Error).message}`, { cause });
  }
}

/** Removes user:password from a URL before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
