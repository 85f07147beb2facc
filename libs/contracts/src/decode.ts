import type { z } from 'zod';
import { cloudEventEnvelopeSchema, type CloudEvent, type IdmEvent } from './envelope.js';
import { eventDataSchemas, eventDataVersions, eventSubjectFields } from './event-data.schemas.js';
import { isEventType, type EventType } from './event-types.js';

/** Why an event was rejected; stable, for dead-letter records and metrics. */
export type DecodeFailure = 'not-json' | 'envelope-invalid' | 'unknown-type' | 'unsupported-version' | 'data-invalid';

/**
 * An event that can never be handled as it is: retrying will not help, so consumers dead-letter
 * and terminate it. `field` names the offending field (`type`, `dataversion`, `data.email`, …;
 * absent for `not-json`, `(root)` when the payload is not an object) and the message repeats it.
 * Messages quote only envelope values and validator text, never `data` values.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly code = 'IDM_EVENT_INVALID';
  constructor(
    readonly failure: DecodeFailure,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Converts a payload of version N to N+1. Register one per old version when a schema changes. */
export type Upcaster = (data: unknown) => unknown;

/** Upcasters by type and the version they upgrade *from*. Empty while every type is at version 1. */
const upcasters: Partial<Record<EventType, Record<string, Upcaster>>> = {};

function firstIssue(error: z.ZodError, prefix: string): { field: string; text: string } {
  const issue = error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.') || '(root)';
  return { field, text: `${field}: ${issue.message}` };
}

function parseJson(input: Uint8Array | string): unknown {
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new DecodeError('not-json', `payload is not JSON: ${(cause as Error).message}`, undefined, { cause });
  }
}

/**
 * Decodes and validates an event from bytes, a JSON string or a parsed object.
 *
 * Checks, in order: JSON → CloudEvents envelope → known `type` → supported `dataversion` (known old
 * versions are upcast to the current one) → `data` against the type's schema → `subject` equals the
 * type's key field in `data` (`userId`, or `schedule` for ticks). Unknown envelope extensions and
 * unknown `data` fields are dropped, so additive changes do not break old consumers.
 * @returns a new event at the type's current `dataversion`; the input is not modified.
 * @throws DecodeError naming the field at fault; never returns a partially valid event.
 */
export function decodeEvent(input: Uint8Array | string | unknown): IdmEvent {
  const raw = input instanceof Uint8Array || typeof input === 'string' ? parseJson(input) : input;
  const envelope = cloudEventEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    const { field, text } = firstIssue(envelope.error, '');
    throw new DecodeError('envelope-invalid', `invalid CloudEvents envelope: ${text}`, field);
  }
  const env = envelope.data;
  if (!isEventType(env.type)) throw new DecodeError('unknown-type', `unknown event type ${JSON.stringify(env.type)}`, 'type');
  const type = env.type;
  const current: string = eventDataVersions[type];
  let data = env.data;
  let version = env.dataversion;
  while (version !== current) {
    const up = upcasters[type]?.[version];
    if (!up)
      throw new DecodeError(
        'unsupported-version',
        `${type} dataversion ${JSON.stringify(version)} is not supported (current is ${current})`,
        'dataversion',
      );
    data = up(data);
    version = String(Number(version) + 1);
  }
  const parsed = eventDataSchemas[type].safeParse(data);
  if (!parsed.success) {
    const { field, text } = firstIssue(parsed.error, 'data');
    throw new DecodeError('data-invalid', `invalid ${type}: ${text}`, field);
  }
  const keyField = eventSubjectFields[type];
  const key = (parsed.data as Record<string, unknown>)[keyField];
  if (key !== env.subject) {
    throw new DecodeError('envelope-invalid', `invalid CloudEvents envelope: subject: must equal data.${keyField} for ${type}`, 'subject');
  }
  return { ...env, dataversion: current, data: parsed.data } as IdmEvent;
}

/**
 * Serialises an event for the wire (CloudEvents JSON structured mode, UTF-8). Accepts any typed
 * idm event, including a generic `IdmEventOf<T>`; it does not re-validate (use {@link createEvent}).
 */
export function encodeEvent(event: CloudEvent<EventType>): Uint8Array {
  return Buffer.from(JSON.stringify(event), 'utf8');
}
