import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection, type TlsOptions } from '@nats-io/nats-core';
import { ConfigError, errorMessage, redactUrls } from '@idm/config';
import { MessagingUnavailableError } from './errors.js';

/** Mutual-TLS files (PEM). Any of them turns TLS on; the server must then offer TLS. */
export interface NatsTlsFiles {
  /** CA bundle that signed the server certificate; default: the system's trusted CAs. */
  readonly caFile?: string | undefined;
  /** Client certificate, for servers that verify clients (`verify: true`). Needs `keyFile`. */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

/** How to reach NATS. Mirrors the `NATS_*` environment variables. */
export interface NatsConnectionConfig {
  /** One or more `nats://` or `tls://` URLs, comma-separated. */
  readonly url: string;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** Path to a `.creds` file (JWT + nkey seed). */
  readonly creds?: string | undefined;
  /** Path to a file holding a user nkey seed (`SU…`), as written by `idm nats-config`. */
  readonly nkeySeedFile?: string | undefined;
  /** Prefix of reply subjects (`_INBOX.<role>`), matching the role's subscribe permission. Default `_INBOX`. */
  readonly inboxPrefix?: string | undefined;
  /** TLS files; TLS is also used for `tls://` URLs without them. */
  readonly tls?: NatsTlsFiles | undefined;
  /** Connection name shown in the server's monitoring, e.g. `idm-notifier`. */
  readonly name: string;
  /** Give up the *first* connect after this many ms (default 10 s). Reconnects never give up. */
  readonly connectTimeoutMs?: number;
}

/**
 * The nats.js options for a config, without connecting: authentication (user/password, `.creds`
 * or an nkey seed file — read once here, so a missing file fails the start), TLS and the inbox
 * prefix. Pure apart from reading the credential files.
 * @throws ConfigError naming the variable and the unreadable file (never its content).
 */
export function natsConnectOptions(config: NatsConnectionConfig): ConnectionOptions {
  const servers = config.url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const options: ConnectionOptions = {
    servers,
    name: config.name,
    timeout: config.connectTimeoutMs ?? 10_000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: false,
    // Otherwise nats.js builds two Errors (stack captured) for every request and JetStream publish
    // in case it fails later: 3 % of password-sync's main thread in the bench profile. A failure
    // still raises the same error class and message, created when it happens.
    noAsyncTraces: true,
  };
  if (config.user) {
    options.user = config.user;
    options.pass = config.password ?? '';
  }
  if (config.creds) options.authenticator = credsAuthenticator(readCredential(config.creds, 'NATS_CREDS'));
  if (config.nkeySeedFile) {
    const seed = new TextDecoder().decode(readCredential(config.nkeySeedFile, 'NATS_NKEY_SEED_FILE')).trim();
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (config.inboxPrefix) options.inboxPrefix = config.inboxPrefix;
  const tls = config.tls ?? {};
  if (tls.caFile || tls.certFile || tls.keyFile || servers.some((s) => s.startsWith('tls://'))) {
    const files: TlsOptions = {};
    if (tls.caFile) files.caFile = tls.caFile;
    if (tls.certFile) files.certFile = tls.certFile;
    if (tls.keyFile) files.keyFile = tls.keyFile;
    options.tls = files;
  }
  return options;
}

function readCredential(path: string, variable: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (cause) {
    // A configuration mistake, not an outage: never retried, and the content is never quoted.
    throw new ConfigError([`${variable}: cannot read the file ${path} (${(cause as NodeJS.ErrnoException).code ?? 'unreadable'})`]);
  }
}

/**
 * Connects to NATS with reconnects that never give up: a running service rides out a server
 * restart. The first connect fails fast with {@link MessagingUnavailableError} naming the URL
 * (never the credentials). An authentication failure or a refused TLS handshake fails the same way.
 */
export async function connectNats(config: NatsConnectionConfig): Promise<NatsConnection> {
  const options = natsConnectOptions(config); // a ConfigError here is not an outage: let it through
  const servers = options.servers as string[];
  try {
    return await connect(options);
  } catch (cause) {
    throw new MessagingUnavailableError(`cannot connect to NATS at ${servers.map(redactUrls).join(', ')}: ${errorMessage(cause)}`, {
      cause,
    });
  }
}
