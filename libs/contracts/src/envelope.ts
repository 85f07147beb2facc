import type { EventDataMap } from './event-data.schemas.js';
import type { EventType } from './event-types.js';

/** The only data schema version in use. Bumped per type with an upcaster in the decoder. */
export const CURRENT_DATA_VERSION = '1';

/**
 * A CloudEvents 1.0 envelope in JSON structured mode, with the idm extensions.
 *
 * - `id` is unique and doubles as the JetStream `Nats-Msg-Id`, so a re-publish is deduplicated.
 * - `subject` is the user id (the schedule name for ticks); the NATS subject is `<type>.<escaped subject>`.
 * - `dataversion` (extension) is the version of `data`'s schema.
 * - `correlationid` ties a whole causal chain together; `causationid` names the direct cause.
 */
export interface CloudEvent<TType extends string = string, TData = unknown> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: TType;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly dataversion: string;
  readonly correlationid?: string;
  readonly causationid?: string;
  readonly data: TData;
}

/** A typed idm event of one type. */
export type IdmEventOf<T extends EventType> = CloudEvent<T, EventDataMap[T]>;

/** Any idm event; narrow it with a `switch (event.type)`. */
export type IdmEvent = { [T in EventType]: IdmEventOf<T> }[EventType];
