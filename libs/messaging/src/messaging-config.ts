import { z } from 'zod';
import { commonEnv, ConfigError, readEnv } from '@idm/config';
import type { JetStreamTransportOptions } from './jetstream-transport.js';
import type { NatsConnectionConfig } from './nats-connection.js';
import type { EventStreamSettings } from './stream-provisioning.js';

const positiveInt = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** Environment variables of the messaging layer (documented in the README's configuration table). */
export const messagingEnv = {
  NATS_URL: commonEnv.NATS_URL,
  NATS_USER: commonEnv.NATS_USER,
  NATS_PASSWORD: commonEnv.NATS_PASSWORD,
  NATS_CREDS: commonEnv.NATS_CREDS,
  NATS_NKEY_SEED_FILE: commonEnv.NATS_NKEY_SEED_FILE,
  NATS_INBOX_PREFIX: commonEnv.NATS_INBOX_PREFIX,
  NATS_TLS_CA_FILE: commonEnv.NATS_TLS_CA_FILE,
  NATS_TLS_CERT_FILE: commonEnv.NATS_TLS_CERT_FILE,
  NATS_TLS_KEY_FILE: commonEnv.NATS_TLS_KEY_FILE,
  IDM_STREAM: commonEnv.IDM_STREAM,
  IDM_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).optional(),
  IDM_MAX_DELIVER: positiveInt(10),
  IDM_ACK_WAIT_SECONDS: positiveInt(30),
  IDM_CONSUMER_CONCURRENCY: positiveInt(32),
  IDM_CONSUMER_START: z.enum(['all', 'new']).default('all'),
};

/** Messaging settings read from the environment, once, at start. */
export interface MessagingConfig {
  readonly connection: NatsConnectionConfig;
  readonly stream: EventStreamSettings;
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  readonly concurrency: number;
  readonly deliverPolicy: 'all' | 'new';
}

/**
 * Reads and validates the messaging environment for a service.
 * @throws ConfigError naming every invalid variable.
 */
export function messagingConfigFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): MessagingConfig {
  const e = readEnv(messagingEnv, env);
  const problems: string[] = [];
  if ((e.NATS_TLS_CERT_FILE === undefined) !== (e.NATS_TLS_KEY_FILE === undefined))
    problems.push('NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together: set both for mutual TLS, or neither');
  const methods = [
    e.NATS_USER !== undefined && 'NATS_USER',
    e.NATS_CREDS !== undefined && 'NATS_CREDS',
    e.NATS_NKEY_SEED_FILE !== undefined && 'NATS_NKEY_SEED_FILE',
  ].filter(Boolean);
  if (methods.length > 1) problems.push(`${methods.join(', ')}: choose one way to authenticate`);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    connection: {
      url: e.NATS_URL,
      user: e.NATS_USER,
      password: e.NATS_PASSWORD,
      creds: e.NATS_CREDS,
      nkeySeedFile: e.NATS_NKEY_SEED_FILE,
      inboxPrefix: e.NATS_INBOX_PREFIX,
      tls: { caFile: e.NATS_TLS_CA_FILE, certFile: e.NATS_TLS_CERT_FILE, keyFile: e.NATS_TLS_KEY_FILE },
      name: `idm-${serviceName}`,
    },
    stream: { name: e.IDM_STREAM, ...(e.IDM_STREAM_REPLICAS !== undefined ? { replicas: e.IDM_STREAM_REPLICAS } : {}) },
    maxDeliver: e.IDM_MAX_DELIVER,
    ackWaitMs: e.IDM_ACK_WAIT_SECONDS * 1000,
    concurrency: e.IDM_CONSUMER_CONCURRENCY,
    deliverPolicy: e.IDM_CONSUMER_START,
  };
}

/** Transport options for a service's default consumer, from a {@link MessagingConfig}. */
export function transportOptions(
  config: MessagingConfig,
  consumer: string,
  extra: Partial<JetStreamTransportOptions> = {},
): JetStreamTransportOptions {
  return {
    connection: config.connection,
    stream: config.stream,
    consumer,
    maxDeliver: config.maxDeliver,
    ackWaitMs: config.ackWaitMs,
    concurrency: config.concurrency,
    deliverPolicy: config.deliverPolicy,
    ...extra,
  };
}
