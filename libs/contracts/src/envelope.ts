import { z } from 'zod';
import type { EventDataMap } from './event-data.schemas.js';
import type { EventType } from './event-types.js';

/**
 * The data schema version every event type is at today. Versions are kept per type in
 * {@link eventDataVersions}; this constant stays as the value all of them start from.
 */
export const CURRENT_DATA_VERSION = '1';

/**
 * The `dataversion` assumed when an event carries none. `dataversion` is an idm extension; a
 * publisher that writes a plain CloudEvents 1.0 event does not know it, and every type started at
 * version 1, so a missing version reads as the first one (and is upcast like any version-1 event).
 */
export const IMPLIED_DATA_VERSION = '1';

/**
 * A CloudEvents 1.0 envelope in JSON structured mode, with the idm extensions.
 *
 * - `id` is unique and doubles as the JetStream `Nats-Msg-Id`, so a re-publish is deduplicated.
 * - `subject` is the user id (the schedule name for ticks); the NATS subject is `<type>.<escaped subject>`.
 * - `dataversion` (extension) is the version of `data`'s schema; the decoder reads a missing one as
 *   {@link IMPLIED_DATA_VERSION}. idm-events always writes it.
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

/**
 * The CloudEvents envelope as the decoder checks it, before the type and `data` are looked at.
 * `type` is any string here and `data` is unchecked; the AsyncAPI document narrows both per type.
 * Unknown extension attributes are tolerated and dropped; a missing `datacontenttype` becomes
 * `application/json` and a missing `dataversion` becomes {@link IMPLIED_DATA_VERSION} (both are
 * optional in CloudEvents 1.0 terms), so an event from a plain CloudEvents publisher is accepted.
 */
export const cloudEventEnvelopeSchema = z.object({
  specversion: z.literal('1.0').describe('CloudEvents specification version.'),
  id: z.string().min(1).describe('Unique event id; also the JetStream `Nats-Msg-Id`, so a re-publish is deduplicated.'),
  source: z.string().min(1).describe('The producing service, e.g. `/idm/notifier`.'),
  type: z.string().min(1).describe('The event type; frozen public name.'),
  subject: z.string().min(1).describe('The user id (the schedule name for `idm.bulk-task.tick`); unescaped.'),
  time: z.iso.datetime({ offset: true }).describe('When the fact happened (RFC 3339).'),
  datacontenttype: z.literal('application/json').default('application/json').describe('Media type of `data`.'),
  dataversion: z
    .string()
    .regex(/^[1-9]\d*$/, 'must be a decimal version number')
    .default(IMPLIED_DATA_VERSION)
    .describe('Extension: version of the schema of `data` for this type; absent means version 1.'),
  correlationid: z.string().min(1).optional().describe('Extension: id shared by every event of one causal chain.'),
  causationid: z.string().min(1).optional().describe('Extension: id of the event that directly caused this one.'),
  data: z.unknown(),
});
