export {
  PermanentError,
  TransientError,
  WrongLastSequenceError,
  MessagingUnavailableError,
  MessagingSetupError,
  isPermissionViolation,
  permissionViolationOf,
  errorCode,
} from './errors.js';
/** Re-exported from `@idm/config` (where it lives) for the `idm` CLI, which still imports it from here. */
export { errorMessage } from '@idm/config';
export { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { decideSettlement, isPastDeliveryLimit } from './settlement.js';
export type { PermissionViolation } from './errors.js';
export type { HandlingOutcome, Settlement, SettlementPolicy, DeadLetterReason } from './settlement.js';
export { connectNats, natsConnectOptions } from './nats-connection.js';
export type { NatsConnectionConfig, NatsTlsFiles } from './nats-connection.js';
export { serverFeatures, atLeast, parseVersion } from './server-features.js';
export type { ServerFeatures } from './server-features.js';
export {
  ensureEventStream,
  ensureDeadLetterStream,
  deadLetterStreamName,
  DEAD_LETTER_SUBJECT_PREFIX,
  EVENT_STREAM_DEFAULTS,
} from './stream-provisioning.js';
export type { EventStreamSettings, ProvisionResult } from './stream-provisioning.js';
export { ensureConsumer, consumerFilter } from './consumer-provisioning.js';
export type { ConsumerSpec } from './consumer-provisioning.js';
export { EventPublisher } from './event-publisher.js';
export type { PublishOptions, PublishReceipt, EventPublisherOptions } from './event-publisher.js';
export { EventReader } from './event-reader.js';
export type { StoredEvent } from './event-reader.js';
export { deadLetterSubject, deadLetterRecord, boundedDeadLetterRecord, writeDeadLetter } from './dead-letter.js';
export type { DeadLetterRecord, DeadLetterSource } from './dead-letter.js';
export { EventContext } from './event-context.js';
export type { DeliveryFacts } from './event-context.js';
export { ConsumeEvents, CONSUMER_EXTRA } from './consume-events.decorator.js';
export type { ConsumeEventsOptions } from './consume-events.decorator.js';
export { KeyLanes } from './key-lanes.js';
export { JetStreamTransport } from './jetstream-transport.js';
export type { JetStreamTransportOptions, SettledDelivery } from './jetstream-transport.js';
export { messagingEnv, messagingConfigFromEnv, transportOptions } from './messaging-config.js';
export type { MessagingConfig } from './messaging-config.js';
export { MessagingModule, NATS_CONNECTION, JETSTREAM_CLIENT, MESSAGING_CONFIG } from './messaging.module.js';
export type { MessagingModuleOptions } from './messaging.module.js';
export { readStreamInBatches } from './stream-batches.js';
export type { StreamEntry, StreamBatchOptions, StreamBatchProgress, StreamBatchResult } from './stream-batches.js';
export { serveRequests, parseRequest } from './request-responder.js';
export type { ResponderLogger, ParsedRequest } from './request-responder.js';
export {
  parseReplayArgs,
  ReplayArgsError,
  ReplayRefusedError,
  checkAppStopped,
  stdoutSink,
  rate,
  REPLAY_PROGRESS_PREFIX,
  replayProgressSubject,
  natsProgressSink,
  teeSink,
} from './replay-protocol.js';
export type { ReplayArgs, ReplayLine, ReplaySink } from './replay-protocol.js';
