export { AppSubjects, OPERATED_APPS } from './app-subjects.js';
export type { OperatedApp } from './app-subjects.js';
export { OperationsError } from './errors.js';
export type { OperationsErrorCode } from './errors.js';
export { eventTypeNames, findEventType, keyFilters, tailFilters } from './event-filter.js';
export { redactPayload } from './redact-payload.js';
export { groupTimeline, eventsPerMinute } from './timeline.js';
export type { SequencedEvent, TimelineGroup, EventsPerMinute } from './timeline.js';
export { OperationsClient } from './operations-client.js';
export type {
  StreamFacts,
  ConsumerFacts,
  AppAnswer,
  StatusReport,
  PendingEmail,
  EmailPreview,
  UserReport,
  StoredDeadLetter,
  ReplayPlan,
  UserMatch,
  Tail,
} from './operations-client.js';
