import { CURRENT_DATA_VERSION, type CloudEvent, type IdmEventOf } from './envelope.js';
import { DecodeError } from './decode.js';
import { deriveEventId, newEventId } from './event-id.js';
import { eventDataSchemas, type EventDataMap } from './event-data.schemas.js';
import type { EventType } from './event-types.js';

/** How to stamp a new event. */
export interface CreateEventOptions {
  /** CloudEvents `source`, e.g. `/idm/notifier`. */
  readonly source: string;
  /** Event time; pass the injected clock's value, never `new Date()` inside a decider. */
  readonly time: Date | string;
  /**
   * The event that caused this one. The new id is then derived from (cause id, type, subject,
   * discriminator) so a retried handler appends nothing twice, and correlation is carried over.
   */
  readonly causedBy?: Pick<CloudEvent, 'id' | 'correlationid'>;
  /** Extra parts for the derived id when one cause yields several events of one type and subject. */
  readonly discriminator?: readonly string[];
  /** An explicit id (e.g. derived from a schedule slot); wins over derivation. */
  readonly id?: string;
  /** Correlation id for an event with no cause; defaults to the event's own id. */
  readonly correlationId?: string;
}

/**
 * Builds a valid event of `type` about `subject`.
 * @throws DecodeError if `data` does not satisfy the type's schema — a programming error, caught at the source.
 */
export function createEvent<T extends EventType>(type: T, subject: string, data: EventDataMap[T], options: CreateEventOptions): IdmEventOf<T> {
  const parsed = eventDataSchemas[type].safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['data', ...issue.path.map(String)].join('.');
    throw new DecodeError('data-invalid', `invalid ${type}: ${field}: ${issue.message}`, field);
  }
  const id = options.id ?? (options.causedBy ? deriveEventId(options.causedBy.id, type, subject, ...(options.discriminator ?? [])) : newEventId());
  const correlationid = options.causedBy ? (options.causedBy.correlationid ?? options.causedBy.id) : (options.correlationId ?? id);
  const time = typeof options.time === 'string' ? options.time : options.time.toISOString();
  const event: CloudEvent<T, EventDataMap[T]> = {
    specversion: '1.0',
    id,
    source: options.source,
    type,
    subject,
    time,
    datacontenttype: 'application/json',
    dataversion: CURRENT_DATA_VERSION,
    correlationid,
    ...(options.causedBy ? { causationid: options.causedBy.id } : {}),
    data: parsed.data as EventDataMap[T],
  };
  return event as IdmEventOf<T>;
}
