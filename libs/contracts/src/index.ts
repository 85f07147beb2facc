export { EventTypes, ALL_EVENT_TYPES, isEventType, eventNameOf } from './event-types.js';
export type { EventName, EventType } from './event-types.js';
export {
  eventDataSchemas,
  eventDataVersions,
  eventSubjectFields,
  subjectOfData,
  isoTimestamp,
  userId,
  emailType,
  passwordSyncFailureReasons,
  userRemovalReasons,
  passwordExpiryReasons,
} from './event-data.schemas.js';
export type {
  EventDataMap,
  UserAddedData,
  UserModifiedData,
  UserRemovedData,
  PasswordChangedData,
  PasswordSyncedData,
  PasswordSyncFailedData,
  PasswordExpiredData,
  BulkTaskTickData,
  EmailQueuedData,
  EmailSentData,
  EmailFailedData,
  EmailAbandonedData,
  PasswordSyncFailureReason,
  UserRemovalReason,
  PasswordExpiryReason,
} from './event-data.schemas.js';
export { CURRENT_DATA_VERSION, cloudEventEnvelopeSchema } from './envelope.js';
export type { CloudEvent, IdmEvent, IdmEventOf } from './envelope.js';
export {
  encodeSubjectKey,
  decodeSubjectKey,
  subjectFor,
  eventSubject,
  typeFilter,
  keyFilter,
  parseEventSubject,
  STREAM_SUBJECTS,
  COMMAND_PREFIX,
  SubjectKeyError,
} from './subjects.js';
export { newEventId, deriveEventId } from './event-id.js';
export { decodeEvent, encodeEvent, DecodeError } from './decode.js';
export type { DecodeFailure, Upcaster } from './decode.js';
export { createEvent } from './create-event.js';
export type { CreateEventOptions } from './create-event.js';
export { CommandSubjects, passwordChangeRequestSchema, passwordChangeReplySchema } from './commands.js';
export type { CommandSubject, PasswordChangeRequest, PasswordChangeReply } from './commands.js';
export {
  emptyQuerySchema,
  userQuerySchema,
  emailPreviewQuerySchema,
  scheduleFireRequestSchema,
  queryFailureSchema,
  notifierStatusReplySchema,
  notifierUserReplySchema,
  emailPreviewReplySchema,
  passwordSyncStatusReplySchema,
  passwordSyncUserReplySchema,
  scheduleListReplySchema,
  scheduleFireReplySchema,
  directorySourceStatusReplySchema,
} from './operator-queries.js';
export type { DirectorySourceStatusReply } from './operator-queries.js';
export { COMMAND_CATALOGUE } from './command-catalogue.js';
export type { CommandDescription } from './command-catalogue.js';
export { buildAsyncApiDocument, renderAsyncApiYaml, CONTRACT_VERSION, DEFAULT_STREAM_NAME } from './asyncapi.js';
export { eventJsonSchema, eventJsonSchemaPath, renderEventJsonSchemas, JSON_SCHEMA_DIALECT } from './event-json-schema.js';
export type { JsonSchemaObject } from './event-json-schema.js';
