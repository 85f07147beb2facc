import { z } from 'zod';
import { CURRENT_DATA_VERSION, type IdmEvent } from './envelope.js';
import { eventDataSchemas } from './event-data.schemas.js';
import { isEventType, type EventType } from './event-types.js';

/** Why an event was rejected; stable, for dead-letter records and metrics. */
export type DecodeFailure = 'not-json' | 'envelope-invalid' | 'unknown-type' | 'unsupported-version' | 'data-invalid';

/**
 * An event that can never be handled as it is: retrying will not help, so consumers dead-letter
 * and terminate it. The message names the offending field.
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

const envelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json').default('application/json'),
  dataversion: z.string().regex(/^\d+$/, 'must be a decimal version number'),
  correlationid: z.string().min(1).optional(),
  causationid: z.string().min(1).optional(),
  data: z.unknown(),
});

/** Converts a payload of version N to N+1. Register one per old version when a schema changes. */
export type Upcaster = (data: unknown) => unknown;

/** Upcasters by type and the version they upgrade *from*. Empty while every type is at version 1. */
const upcasters: Partial<Record<EventType, Record<string, Upcaster>>> = {};

function fieldOf(issue: z.core.$ZodIssue, prefix: string): string {
  return [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
}

function firstIssue(error: z.ZodError, prefix: string): { field: string; text: string } {
  const issue = error.issues[0]!;
  const field = fieldOf(issue, prefix) || prefix || '(root)';
  return { field, text: `${field}: ${issue.message}` };
}

/**
 * Decodes and validates an event from bytes, a JSON string or a parsed object.
 *
 * Rejects unknown types and unknown versions, upcasts known old versions, and validates `data`
 * against the type's schema.
 * @throws DecodeError naming the field at fault; never returns a partially valid event.
 */
export function decodeEvent(input: Uint8Array | string | unknown): IdmEvent {
  let raw: unknown = input;
  if (input instanceof Uint8Array || typeof input === 'string') {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      throw new DecodeError('not-json', `payload is not JSON: ${(cause as Error).message}`, undefined, { cause });
    }
  }
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) {
    const { field, text } = firstIssue(envelope.error, '');
    throw new DecodeError('envelope-invalid', `invalid CloudEvents envelope: ${text}`, field);
  }
  const env = envelope.data;
  if (!isEventType(env.type)) throw new DecodeError('unknown-type', `unknown event type ${JSON.stringify(env.type)}`, 'type');
  let data = env.data;
  let version = env.dataversion;
  while (version !== CURRENT_DATA_VERSION) {
    const up = upcasters[env.type]?.[version];
    if (!up) throw new DecodeError('unsupported-version', `${env.type} dataversion ${version} is not supported (current is ${CURRENT_DATA_VERSION})`, 'dataversion');
    data = up(data);
    version = String(Number(version) + 1);
  }
  const parsed = eventDataSchemas[env.type].safeParse(data);
  if (!parsed.success) {
    const { field, text } = firstIssue(parsed.error, 'data');
    throw new DecodeError('data-invalid', `invalid ${env.type}: ${text}`, field);
  }
  return { ...env, dataversion: CURRENT_DATA_VERSION, data: parsed.data } as IdmEvent;
}

/** Serialises an event for the wire (JSON structured mode). */
export function encodeEvent(event: IdmEvent): Uint8Array {
  return Buffer.from(JSON.stringify(event), 'utf8');
}
