import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The part of a settled JetStream delivery the metrics read (`SettledDelivery` of `@idm/messaging`). */
export interface SettledFacts {
  readonly consumer: string;
  readonly type: string | undefined;
  readonly eventId?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly streamSequence?: number;
  readonly deliveryCount?: number;
  readonly settlement: { readonly action: string; readonly reason?: string; readonly message?: string };
  readonly durationMs: number;
}

/** The part of an appended event the metrics read. */
export interface AppendedFacts {
  readonly type: string;
  readonly data: unknown;
}

/**
 * The metrics every app exposes on `/metrics`, in one registry per app (so specs and several apps
 * in one process never collide). Names are prefixed `idm_`; the `app` label is set on all of them.
 */
export interface AppMetrics {
  readonly registry: Registry;
  /** JetStream deliveries settled, by event type, consumer and settlement action (`ack`, `nak`, `dead-letter`). */
  readonly eventsHandled: Counter<'type' | 'consumer' | 'outcome'>;
  /** Handler time from delivery to settlement, seconds. */
  readonly handlerSeconds: Histogram<'type' | 'consumer'>;
  /** Deliveries dead-lettered (poison, or past the delivery limit). */
  readonly deadLetters: Counter<'consumer' | 'type' | 'reason'>;
  /** Events this app appended to the log, by type (EmailSent, PasswordExpired, BulkTaskTick, …). */
  readonly eventsPublished: Counter<'type'>;
}

/**
 * Creates the registry and the shared metrics of an app, with Node's default process metrics.
 * App-specific metrics are added with {@link addGauge}, {@link addCounter} / {@link addOutcomeCounter} and
 * {@link appendedObserver}.
 */
export function createAppMetrics(app: string): AppMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    eventsHandled: new Counter({
      name: 'idm_events_handled_total',
      help: 'JetStream deliveries settled, by event type, consumer and outcome',
      labelNames: ['type', 'consumer', 'outcome'],
      registers: [registry],
    }),
    handlerSeconds: new Histogram({
      name: 'idm_handler_duration_seconds',
      help: 'Time from delivery to settlement',
      labelNames: ['type', 'consumer'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'idm_dead_letters_total',
      help: 'Deliveries dead-lettered (undecodable, permanent error, or past the delivery limit)',
      labelNames: ['consumer', 'type', 'reason'],
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: 'idm_events_published_total',
      help: 'Events appended to the log by this app, by type',
      labelNames: ['type'],
      registers: [registry],
    }),
  };
}

/**
 * The `onSettled` hook of `JetStreamTransport`: counts the outcome, observes the latency and
 * counts dead letters. Never throws (the transport requires it).
 */
export function settledObserver(metrics: AppMetrics, logger?: Logger): (delivery: SettledFacts) => void {
  return (d) => {
    try {
      if (logger) logSettlement(logger, d);
      const type = d.type ?? 'undecodable';
      metrics.eventsHandled.inc({ type, consumer: d.consumer, outcome: d.settlement.action });
      metrics.handlerSeconds.observe({ type, consumer: d.consumer }, d.durationMs / 1000);
      if (d.settlement.action === 'dead-letter')
        metrics.deadLetters.inc({ consumer: d.consumer, type, reason: d.settlement.reason ?? 'unknown' });
    } catch {
      // A metric must never change how a message is settled.
    }
  };
}

/** An appended-event listener that counts by type and calls `extra` for app-specific counters. */
export function appendedObserver(metrics: AppMetrics, extra?: (event: AppendedFacts) => void): (event: AppendedFacts) => void {
  return (event) => {
    try {
      metrics.eventsPublished.inc({ type: event.type });
      extra?.(event);
    } catch {
      // Counting must never fail a publish.
    }
  };
}

/**
 * Registers a gauge whose value is read at scrape time by `read` (a database count, a consumer's
 * `num_pending`). A failing read leaves the gauge at its previous value: a scrape never fails.
 */
export function addGauge(metrics: AppMetrics, name: string, help: string, read: () => Promise<number> | number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [metrics.registry],
    async collect() {
      try {
        this.set(await read());
      } catch {
        // Keep the last value; readiness reports the broken dependency.
      }
    },
  });
}

/** Registers an app-specific counter in the app's registry. */
export function addCounter<L extends string = never>(
  metrics: AppMetrics,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return new Counter<L>({ name, help, labelNames, registers: [metrics.registry] });
}

/**
 * Registers a counter `name{outcome}` and returns the counting step for {@link appendedObserver}:
 * an appended event whose type is a key of `outcomes` increments the counter with that outcome
 * label (e.g. `idm.email.sent` → `sent`). Labels never carry ids.
 */
export function addOutcomeCounter(
  metrics: AppMetrics,
  name: string,
  help: string,
  outcomes: Readonly<Record<string, string>>,
): (event: AppendedFacts) => void {
  const counter = addCounter(metrics, name, help, ['outcome']);
  return (event) => {
    const outcome = outcomes[event.type];
    if (outcome) counter.inc({ outcome });
  };
}

/**
 * Counts the events an app appends by outcome: registers `name{outcome}` ({@link addOutcomeCounter})
 * and subscribes {@link appendedObserver} with it to the app's publisher, so every appended event is
 * also counted by type.
 */
export function countAppendedOutcomes(
  metrics: AppMetrics,
  publisher: { onAppended(listener: (event: AppendedFacts) => void): void },
  name: string,
  help: string,
  outcomes: Readonly<Record<string, string>>,
): void {
  publisher.onAppended(appendedObserver(metrics, addOutcomeCounter(metrics, name, help, outcomes)));
}

/** Where an app's state changes commit with the events they emit (`Outbox` of `@idm/persistence`). */
export interface CommittedEvents {
  onCommitted(listener: (events: readonly AppendedFacts[]) => void): void;
}

/**
 * Counts the events an app stores through its outboxes by outcome: registers `name{outcome}`
 * ({@link addOutcomeCounter}) and counts each event of `outcomes`' types once, when the commit
 * that wrote it (with the state change it reports) succeeds — not when the relay publishes it,
 * which after a crash between the publish and the row's delete happens again (past the stream's
 * duplicate window, the stream even stores it twice). Every event the publisher appends is still
 * counted by type (`idm_events_published_total`, {@link appendedObserver}): that one counts
 * publishes.
 */
export function countStoredOutcomes(
  metrics: AppMetrics,
  publisher: { onAppended(listener: (event: AppendedFacts) => void): void },
  outboxes: readonly CommittedEvents[],
  name: string,
  help: string,
  outcomes: Readonly<Record<string, string>>,
): void {
  publisher.onAppended(appendedObserver(metrics));
  const count = addOutcomeCounter(metrics, name, help, outcomes);
  for (const outbox of outboxes) {
    outbox.onCommitted((events) => {
      try {
        for (const event of events) count(event);
      } catch {
        // Counting must never fail a commit.
      }
    });
  }
}

/** An outbox relay as its gauge reads it (`OutboxRelay` of `@idm/persistence`). */
export interface RelayFailures {
  /** Failed rounds in a row; 0 once a round succeeded. */
  readonly failedRoundsInARow: number;
}

/**
 * Registers `idm_outbox_relay_failures_in_a_row`, read from `relay` at scrape time: above 0 the
 * app's events wait in its outbox (the stream refuses or is away); the relay logs the cause.
 */
export function addOutboxRelayGauge(metrics: AppMetrics, relay: RelayFailures): Gauge {
  return addGauge(
    metrics,
    'idm_outbox_relay_failures_in_a_row',
    'Failed outbox relay rounds in a row (0 once a round succeeds); events wait in the outbox meanwhile',
    () => relay.failedRoundsInARow,
  );
}

/**
 * Registers `idm_consumer_pending_messages{consumer}`: messages not yet delivered to each durable
 * consumer (`num_pending` of consumer info), read at scrape time by `read`.
 */
export function addConsumerLagGauge(metrics: AppMetrics, read: () => Promise<ReadonlyArray<readonly [string, number]>>): Gauge<'consumer'> {
  return new Gauge<'consumer'>({
    name: 'idm_consumer_pending_messages',
    help: 'Messages not yet delivered to the durable consumer (consumer info num_pending)',
    labelNames: ['consumer'],
    registers: [metrics.registry],
    async collect() {
      try {
        for (const [consumer, pending] of await read()) this.set({ consumer }, pending);
      } catch {
        // NATS down: readiness says so; the scrape still answers.
      }
    },
  });
}

/**
 * Age in seconds of the oldest item of a queue (`since` = its timestamp) at `now`; 0 for an empty
 * queue (`since` null), never negative (a clock a little behind the database's). Time is data: the
 * shell passes `now`.
 */
export function ageSeconds(since: Date | null, now: Date): number {
  if (since === null) return 0;
  return Math.max(0, (now.getTime() - since.getTime()) / 1000);
}

/**
 * Seconds left until the earliest deadline `until` at `now`: `+Inf` when nothing has a deadline
 * (so a `< N` alert stays quiet), 0 once it has passed (not yet handled by the next tick).
 */
export function secondsLeft(until: Date | null, now: Date): number {
  if (until === null) return Number.POSITIVE_INFINITY;
  return Math.max(0, (until.getTime() - now.getTime()) / 1000);
}

/** One line per settlement: debug for acks, warn for retries, error for dead letters. */
function logSettlement(logger: Logger, d: SettledFacts): void {
  const fields = {
    consumer: d.consumer,
    type: d.type,
    eventId: d.eventId,
    correlationId: d.correlationId,
    streamSeq: d.streamSequence,
    delivery: d.deliveryCount,
    outcome: d.settlement.action,
    ms: Math.round(d.durationMs),
  };
  if (d.settlement.action === 'dead-letter')
    logger.error(
      { ...fields, reason: d.settlement.reason, error: d.settlement.message },
      `dead-lettered ${d.type ?? 'an undecodable message'}`,
    );
  else if (d.settlement.action === 'nak') logger.warn({ ...fields, error: d.settlement.message }, `${d.type ?? 'message'} will be retried`);
  else logger.debug(fields, `handled ${d.type ?? 'message'}`);
}
