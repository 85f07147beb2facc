// The public API: what apps, other libs, tests, benchmarks and examples use. Everything else
// (settlement, key lanes, provisioning details, option and result types) stays internal.
export { PermanentError, WrongLastSequenceError, MessagingSetupError, isPermissionViolation } from './errors.js';
/** Re-exported from `@idm/config` (where it lives) for the `idm` CLI, which still imports it from here. */
export { connectNats } from './nats-connection.js';
export type { NatsConnectionConfig } from './nats-connection.js';
export { serverFeatures } from './server-features.js';
export { ensureEventStream, ensureDeadLetterStream, deadLetterStreamName, DEAD_LETTER_SUBJECT_PREFIX } from './stream-provisioning.js';
export type { EventStreamSettings } from './stream-provisioning.js';
export { consumerFilter } from './consumer-provisioning.js';
export { EventPublisher } from './event-publisher.js';
export type { AppendedEvent, StoredEvent } from './event-publisher.js';
export { EventReader } from './event-reader.js';
export { boundedDeadLetterRecord, writeDeadLetter } from './dead-letter.js';
export type { DeadLetterRecord } from './dead-letter.js';
export { EventContext } from './event-context.js';
export { ConsumeEvents } from './consume-events.decorator.js';
export { JetStreamTransport } from './jetstream-transport.js';
export { messagingEnv, messagingConfigFromEnv, transportOptions } from './messaging-config.js';
export type { MessagingConfig } from './messaging-config.js';
export { MessagingModule, NATS_CONNECTION } from './messaging.module.js';
export { readStreamInBatches } from './stream-batches.js';
export { RequestResponders } from './request-responder.js';
export { replyBody, UNENCODABLE_REPLY, type ResponderLogger } from './reply-body.js';
export { OutboundBatch, type Ackable, type Respondable } from './outbound-batch.js';
export {
  parseReplayArgs,
  checkAppStopped,
  stdoutSink,
  rate,
  REPLAY_PROGRESS_PREFIX,
  natsProgressSink,
  teeSink,
} from './replay-protocol.js';
export type { ReplayArgs, ReplayLine, ReplaySink } from './replay-protocol.js';
export { replayProjection, streamBatchReader } from './replay-projection.js';
export type {
  Projection,
  ReplayProjectionOptions,
  ReplayProjectionPorts,
  ReplayProjectionResult,
  StreamBatchReader,
} from './replay-projection.js';
export { runReplayMain } from './replay-main.js';
export type { ReplayMain } from './replay-main.js';
