import type { CloudEvent, IdmEventOf } from './envelope.js';
import { DecodeError, decodeEvent } from './decode.js';
import { deriveEventId, newEventId } from './event-id.js';
import { eventDataVersions, type EventDataMap } from './event-data.schemas.js';
import type { EventType } from './event-types.js';

/** How to stamp a new event. */
export interface CreateEventOptions {
  /** CloudEvents `source`, e.g. `/idm/notifier`. */
  readonly source: string;
  /** Event time; pass the injected clock's value, never `new Date()` inside a decider. */
  readonly time: Date | string;
  /**
   * The event that caused this one. The new id is then derived from (cause id, type, subject,
   * discriminator) so a retried handler appends nothing twice; `causationid` is the cause's id and
   * `correlationid` is carried over (the cause's own id when it had none).
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
 * Builds a valid event of `type` about `subject` at the type's current `dataversion`.
 *
 * The result passes exactly the checks of {@link decodeEvent} (it is built through it), so
 * `subject` must equal the type's key field in `data` (`userId`, or `schedule` for ticks).
 * @throws DecodeError naming the field (`data.email`, `subject`, `time`, …) when the event would be
 * invalid — a programming error, caught at the source rather than by every consumer.
 */
export function createEvent<T extends EventType>(
  type: T,
  subject: string,
  data: EventDataMap[T],
  options: CreateEventOptions,
): IdmEventOf<T> {
  const id =
    options.id ?? (options.causedBy ? deriveEventId(options.causedBy.id, type, subject, ...(options.discriminator ?? [])) : newEventId());
  const correlationid = options.causedBy ? (options.causedBy.correlationid ?? options.causedBy.id) : (options.correlationId ?? id);
  let time: string;
  if (typeof options.time === 'string') {
    time = options.time;
  } else if (Number.isNaN(options.time.getTime())) {
    throw new DecodeError('envelope-invalid', 'invalid CloudEvents envelope: time: invalid Date', 'time');
  } else {
    time = options.time.toISOString();
  }
  const event: CloudEvent<T, EventDataMap[T]> = {
    specversion: '1.0',
    id,
    source: options.source,
    type,
    subject,
    time,
    datacontenttype: 'application/json',
    dataversion: eventDataVersions[type],
    correlationid,
    ...(options.causedBy ? { causationid: options.causedBy.id } : {}),
    data,
  };
  return decodeEvent(event) as IdmEventOf<T>;
}
