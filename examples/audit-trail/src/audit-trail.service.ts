import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { decodeEvent, DecodeError, typeFilter } from '@idm/contracts';
import { applyToTrail, AUDIT_TYPES, EMPTY_TRAIL, type AuditTrail } from './audit-trail.projection.js';

/** Where the service starts the first time its durable consumer is created. */
export type StartFrom = { readonly seq: number } | { readonly time: Date } | 'all' | 'new';

/** How the example service is set up. */
export interface AuditTrailOptions {
  readonly stream: string;
  /** Durable consumer name: the server remembers the position across restarts. */
  readonly durable: string;
  readonly startFrom?: StartFrom;
  /** Called after each applied event, with the new projection (store it here in a real service). */
  readonly onChange?: (trail: AuditTrail) => void;
}

/** A running subscription: the current projection and how to stop. */
export interface AuditTrailService {
  trail(): AuditTrail;
  stop(): Promise<void>;
}

function startPolicy(from: StartFrom): Partial<ConsumerConfig> {
  if (from === 'all') return { deliver_policy: DeliverPolicy.All };
  if (from === 'new') return { deliver_policy: DeliverPolicy.New };
  if ('seq' in from) return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.seq };
  return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.time.toISOString() };
}

/** nats-server 2.10 added `filter_subjects`: several filters on one consumer. */
function takesSeveralFilters(nc: NatsConnection): boolean {
  const [major = 0, minor = 0] = (nc.info?.version ?? '0.0.0').split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 10);
}

/**
 * One filter per type on nats-server 2.10+; 2.9 takes a single filter, so there the consumer reads
 * everything and the projection skips (and acks) the rest.
 */
function auditFilter(nc: NatsConnection): Pick<ConsumerConfig, 'filter_subjects'> {
  return takesSeveralFilters(nc) ? { filter_subjects: AUDIT_TYPES.map(typeFilter) } : {};
}

/**
 * An audit trail of password and email outcomes per user, kept by another service: a durable pull
 * consumer filtered to the outcome subjects, explicit acks, decoding with `@idm/contracts` — its only
 * idm dependency, beside the NATS client (`@nats-io/jetstream`).
 * Ack rules: ack after the projection applied the event; `term` what can never be decoded (it will
 * not get better: log it and move on); `nak` with a delay on a transient failure of your own store.
 */
export async function startAuditTrail(
  nc: NatsConnection,
  js: JetStreamClient,
  jsm: JetStreamManager,
  options: AuditTrailOptions,
): Promise<AuditTrailService> {
  // Creating a durable that exists with the same config is a no-op; the start position applies only at creation.
  await jsm.consumers.add(options.stream, {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    ...auditFilter(nc),
    max_deliver: 10,
    ack_wait: 30_000_000_000,
    ...startPolicy(options.startFrom ?? 'all'),
  });
  const consumer = await js.consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: 256 });
  let trail = EMPTY_TRAIL;
  const loop = (async () => {
    for await (const msg of messages) {
      let event;
      try {
        event = decodeEvent(msg.data);
      } catch (err) {
        if (err instanceof DecodeError) {
          msg.term(`undecodable: ${err.message}`);
          continue;
        }
        throw err;
      }
      try {
        trail = applyToTrail(trail, event, msg.seq);
        options.onChange?.(trail);
        msg.ack();
      } catch {
        msg.nak(5_000);
      }
    }
  })();
  return {
    trail: () => trail,
    stop: async () => {
      await messages.close();
      await loop;
    },
  };
}
