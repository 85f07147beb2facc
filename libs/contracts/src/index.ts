export { EventTypes, ALL_EVENT_TYPES, isEventType, eventNameOf } from './event-types.js';
export type { EventName, EventType } from './event-types.js';
export { eventDataSchemas, eventDataVersions, eventSubjectFields, emailType } from './event-data.schemas.js';
export type {
  EventDataMap,
  BulkTaskTickData,
  PasswordSyncFailureReason,
  UserRemovalReason,
  PasswordExpiryReason,
} from './event-data.schemas.js';
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
} from './subjects.js';
export { newEventId, deriveEventId } from './event-id.js';
export { decodeEvent, encodeEvent, DecodeError } from './decode.js';
export type { Upcaster } from './decode.js';
export { createEvent } from './create-event.js';
export type { CreateEventOptions } from './create-event.js';
export { CommandSubjects, passwordChangeRequestSchema, passwordChangeReplySchema } from './commands.js';
export type { PasswordChangeRequest, PasswordChangeReply } from './commands.js';
export {
  userQuerySchema,
  emailPreviewQuerySchema,
  scheduleFireRequestSchema,
  scheduleListReplySchema,
  scheduleFireReplySchema,
  directorySourceStatusReplySchema,
} from './operator-queries.js';
export type { DirectorySourceStatusReply } from './operator-queries.js';
export { buildAsyncApiDocument, renderAsyncApiYaml, CONTRACT_VERSION } from './asyncapi.js';
export { eventJsonSchema, renderEventJsonSchemas } from './event-json-schema.js';
