import { z } from 'zod';
import { commonEnv, readEnv } from '@idm/config';
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
  return {
    connection: { url: e.NATS_URL, user: e.NATS_USER, password: e.NATS_PASSWORD, creds: e.NATS_CREDS, name: `idm-${serviceName}` },
    stream: { name: e.IDM_STREAM, ...(e.IDM_STREAM_REPLICAS !== undefined ? { replicas: e.IDM_STREAM_REPLICAS } : {}) },
    maxDeliver: e.IDM_MAX_DELIVER,
    ackWaitMs: e.IDM_ACK_WAIT_SECONDS * 1000,
    concurrency: e.IDM_CONSUMER_CONCURRENCY,
    deliverPolicy: e.IDM_CONSUMER_START,
  };
}

/** Transport options for a service's default consumer, from a {@link MessagingConfig}. */
export function transportOptions(config: MessagingConfig, consumer: string, extra: Partial<JetStreamTransportOptions> = {}): JetStreamTransportOptions {
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
