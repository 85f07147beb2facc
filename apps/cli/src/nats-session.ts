import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ConfigError } from '@idm/config';
import { connectNats, messagingConfigFromEnv, type EventStreamSettings } from '@idm/messaging';
import { OperationsClient } from '@idm/operations';
import { CliError } from './cli-error.js';
import { connectionEnv, type ConnectingOptions } from './command.js';

/** One connection for a command, with the stream names from the environment. */
export interface NatsSession {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  /** The stream and its creation settings (`IDM_STREAM_REPLICAS`), for `idm setup`. */
  readonly streamSettings: EventStreamSettings;
  readonly url: string;
  /** The queries and actions shared with the console. */
  readonly ops: OperationsClient;
  close(): Promise<void>;
}

/**
 * Connects with `NATS_URL` (or `--server`) and the NATS_* credentials, inbox prefix and TLS
 * settings (from the environment, or `--env-file`); fails fast with a clear message.
 */
export async function openSession(options: ConnectingOptions): Promise<NatsSession> {
  let config;
  try {
    config = messagingConfigFromEnv('cli', connectionEnv(options));
  } catch (err) {
    throw new CliError((err as Error).message, 'IDM_CLI_USAGE');
  }
  let nc: NatsConnection;
  try {
    nc = await connectNats({ ...config.connection, name: 'idm-cli', connectTimeoutMs: 3_000 });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 'IDM_CLI_USAGE');
    throw new CliError(`NATS server unreachable: ${(err as Error).message}`, 'IDM_CLI_UNREACHABLE', { cause: err });
  }
  return {
    nc,
    js: jetstream(nc),
    // No account-info probe: a password-writer identity may not call the JetStream API at all,
    // and each command's first real call reports a missing JetStream or permission clearly.
    jsm: await jetstreamManager(nc, { checkAPI: false }),
    stream: config.stream.name,
    streamSettings: config.stream,
    url: config.connection.url,
    ops: await OperationsClient.on(nc, config.stream.name),
    close: () => nc.close(),
  };
}
