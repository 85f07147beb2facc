export { AppSubjects, OPERATED_APPS } from './app-subjects.js';
export { OperationsError } from './errors.js';
export type { OperationsErrorCode } from './errors.js';
export { eventTypeNames, findEventType, tailFilters } from './event-filter.js';
export { redactPayload } from './redact-payload.js';
export { OperationsClient } from './operations-client.js';
export type { StoredDeadLetter, Tail } from './operations-client.js';
