import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { isPermissionViolation, MessagingSetupError } from './errors.js';
import type { ServerFeatures } from './server-features.js';

/** What a durable pull consumer of idm-events is made of. */
export interface ConsumerSpec {
  readonly stream: string;
  /** Durable name: one per service and purpose, e.g. `notifier`, `notifier-ticks`. */
  readonly name: string;
  /** The event types its handlers take. */
  readonly types: readonly string[];
  readonly ackWaitMs: number;
  readonly maxAckPending: number;
  /** Where a *new* consumer starts: the whole log, or only events appended from now on. */
  readonly deliverPolicy: 'all' | 'new';
}

/**
 * The subject filter for a consumer's types. One type → `filter_subject`; several types →
 * `filter_subjects` on 2.10+. On 2.9 (one filter only) several types get the wildcard of their
 * common parent below the stream's `idm.` (`idm.user.>` for the three user events), or no filter
 * when they share only `idm.`; the transport acks the events it has no handler for. Why the
 * parent: with no filter the consumer reads the whole stream (password-sync was delivered back
 * every `PasswordChanged` / `PasswordSynced` it appended: two decodes and two acks per password).
 * Types with no handler that still arrive are acked from their subject alone, undecoded, so the
 * app's own events read back do not stand in line before its next input.
 */
export function consumerFilter(
  types: readonly string[],
  features: ServerFeatures,
): Pick<ConsumerConfig, 'filter_subject' | 'filter_subjects'> {
  const unique = [...new Set(types)].sort();
  const subjects = unique.map((t) => `${t}.*`);
  if (subjects.length === 1) return { filter_subject: subjects[0] };
  if (features.multipleConsumerFilters) return { filter_subjects: subjects };
  const parent = commonTokens(unique);
  // One token (`idm`) is the whole stream: the same as no filter, without a consumer to recreate.
  return parent.length >= 2 ? { filter_subject: `${parent.join('.')}.>` } : {};
}

/** The leading subject tokens every one of `subjects` shares. */
function commonTokens(subjects: readonly string[]): string[] {
  const [first = [], ...rest] = subjects.map((s) => s.split('.'));
  let n = first.length;
  for (const other of rest) {
    let i = 0;
    while (i < n && other[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n);
}

/**
 * Creates the durable pull consumer or updates the settings idm owns on it (ack wait, max ack
 * pending, filters). `max_deliver` is unlimited on the server on purpose: the transport counts
 * deliveries itself and dead-letters at its own limit, so a message is never silently parked by
 * the server when the process died on its last delivery.
 *
 * Needs the JetStream API subjects for this consumer only (`CONSUMER.INFO`, `CONSUMER.CREATE`,
 * `CONSUMER.DURABLE.CREATE`, and `CONSUMER.DELETE` when 2.9 must recreate it); a refusal is a
 * {@link MessagingSetupError}.
 */
export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec, features: ServerFeatures): Promise<ConsumerInfo> {
  try {
    return await provisionConsumer(jsm, spec, features);
  } catch (err) {
    if (!isPermissionViolation(err)) throw err;
    throw new MessagingSetupError(
      `this NATS identity may not create or update consumer ${spec.name} on ${spec.stream}: give the service the role \`idm nats-config\` generates for it (it may manage its own consumers), or create the consumer with the admin identity`,
      { cause: err },
    );
  }
}

async function provisionConsumer(jsm: JetStreamManager, spec: ConsumerSpec, features: ServerFeatures): Promise<ConsumerInfo> {
  const owned: Partial<ConsumerConfig> = {
    description: `idm-events consumer ${spec.name}`,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(spec.ackWaitMs),
    max_deliver: -1,
    max_ack_pending: spec.maxAckPending,
    ...consumerFilter(spec.types, features),
  };
  let existing: ConsumerInfo | undefined;
  try {
    existing = await jsm.consumers.info(spec.stream, spec.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
  }
  if (!existing) {
    return jsm.consumers.add(spec.stream, {
      ...owned,
      durable_name: spec.name,
      deliver_policy: spec.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    });
  }
  const current = existing.config;
  const same = current.ack_wait === owned.ack_wait && current.max_ack_pending === owned.max_ack_pending && sameFilter(current, owned);
  if (same) return existing;
  // The client's update() lays these keys over the consumer's current config, so the filter key
  // we no longer use must be named to be dropped: carried over, `filter_subject` next to
  // `filter_subjects` is refused by nats-server 2.10+ (10136), and a filter idm removed would stay.
  // An undefined key is left out of the request, and the server clears what the request leaves
  // out; an empty filter_subject would make an invalid API subject.
  const update: Partial<ConsumerConfig> = { filter_subject: undefined, filter_subjects: undefined, ...owned };
  const updated = await jsm.consumers.update(spec.stream, spec.name, update);
  if (sameFilter(updated.config, owned)) return updated;
  // nats-server 2.9 cannot change a filter in place. Recreate the consumer where the old one had
  // acknowledged up to, so no event is skipped (those between the ack floor and the last delivery
  // come again: handlers are idempotent through the inbox).
  const resumeAt = updated.ack_floor.stream_seq + 1;
  await jsm.consumers.delete(spec.stream, spec.name);
  return jsm.consumers.add(spec.stream, {
    ...owned,
    durable_name: spec.name,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: resumeAt,
  });
}

function sameFilter(a: Partial<ConsumerConfig>, b: Partial<ConsumerConfig>): boolean {
  const sorted = (c: Partial<ConsumerConfig>) => JSON.stringify([...(c.filter_subjects ?? [])].sort());
  return (a.filter_subject ?? '') === (b.filter_subject ?? '') && sorted(a) === sorted(b);
}
