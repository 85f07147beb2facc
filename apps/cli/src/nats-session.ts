import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ConfigError } from '@idm/config';
import { connectNats, messagingConfigFromEnv, type EventStreamSettings } from '@idm/messaging';
import { CliError } from './cli-error.js';

/** One connection for a command, with the stream names from the environment. */
export interface NatsSession {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  /** The stream and its creation settings (`IDM_STREAM_REPLICAS`), for `idm setup`. */
  readonly streamSettings: EventStreamSettings;
  readonly url: string;
  close(): Promise<void>;
}

/** Connects with `NATS_URL` (or `--server`) and the NATS_* credentials, inbox prefix and TLS settings; fails fast with a clear message. */
export async function openSession(server: string | undefined): Promise<NatsSession> {
  let config;
  try {
    config = messagingConfigFromEnv('cli', server ? { ...process.env, NATS_URL: server } : process.env);
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
    close: () => nc.close(),
  };
}

/**
 * A core-NATS request with a JSON body and reply. `undefined` when no service answers (no
 * responders or timeout), so callers can report that service as down and carry on.
 */
export async function ask(session: NatsSession, subject: string, body: unknown, timeoutMs = 3_000): Promise<Record<string, unknown> | undefined> {
  try {
    const reply = await session.nc.request(subject, JSON.stringify(body ?? {}), { timeout: timeoutMs });
    return reply.json<Record<string, unknown>>();
  } catch {
    return undefined;
  }
}

/** Like {@link ask}, but a missing answer or `{ ok: false }` is an error naming the service. */
export async function askOrFail(session: NatsSession, subject: string, body: unknown, service: string, timeoutMs = 5_000): Promise<Record<string, unknown>> {
  const reply = await ask(session, subject, body, timeoutMs);
  if (!reply) throw new CliError(`${service} did not answer on ${subject}: is it running?`, 'IDM_CLI_UNREACHABLE');
  if (reply.ok !== true) throw new CliError(`${service} refused: ${String(reply.error ?? 'unknown error')}`, 'IDM_CLI_REFUSED');
  return reply;
}
