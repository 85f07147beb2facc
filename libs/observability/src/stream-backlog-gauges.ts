import { addConsumerLagGauge, addGauge, type AppMetrics } from './metrics.js';

/**
 * The two JetStream reads the backlog gauges make at scrape time: the shape of `JetStreamManager`
 * from `@nats-io/jetstream`, written structurally so this lib does not depend on NATS.
 */
export interface StreamInfoReader {
  readonly streams: { info(stream: string): Promise<{ readonly state: { readonly messages: number } }> };
  readonly consumers: { info(stream: string, consumer: string): Promise<{ readonly num_pending: number }> };
}

/** Which stream, dead-letter stream and durable consumers {@link addStreamBacklogGauges} reads. */
export interface StreamBacklogSources {
  readonly stream: string;
  /** The app's dead-letter stream (`deadLetterStreamName(stream)` of `@idm/messaging`). */
  readonly deadLetterStream: string;
  readonly consumers: readonly string[];
}

/**
 * Registers the backlog gauges every consuming app exports: `idm_dead_letter_messages` (records
 * waiting for an operator) and `idm_consumer_pending_messages{consumer}` (each durable consumer's
 * `num_pending`). Both are states read at scrape time, so an alert clears once the backlog is gone.
 */
export function addStreamBacklogGauges(metrics: AppMetrics, jsm: StreamInfoReader, sources: StreamBacklogSources): void {
  // Dead letters waiting for an operator (`idm dlq list`): a state, so the alert clears once they are retried or dropped.
  addGauge(
    metrics,
    'idm_dead_letter_messages',
    'Records in the dead-letter stream <stream>_DLQ (all consumers)',
    async () => (await jsm.streams.info(sources.deadLetterStream)).state.messages,
  );
  addConsumerLagGauge(metrics, () =>
    Promise.all(sources.consumers.map(async (c) => [c, (await jsm.consumers.info(sources.stream, c)).num_pending] as const)),
  );
}
