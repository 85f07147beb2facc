import { z } from 'zod';
import { cloudEventEnvelopeSchema, IMPLIED_DATA_VERSION } from './envelope.js';
import { eventDataSchemas, eventDataVersions, eventSubjectFields } from './event-data.schemas.js';
import { ALL_EVENT_TYPES, eventNameOf, type EventType } from './event-types.js';

/** A JSON Schema document as plain data. */
export type JsonSchemaObject = Record<string, unknown>;

/** The JSON Schema dialect of every generated schema: draft-07, the one most validators in every language read. */
export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/**
 * zod 4 → JSON Schema draft-07 without `$schema`. `io: 'input'` keeps objects open (no
 * `additionalProperties: false`), because readers must ignore fields added in later versions.
 */
export function jsonSchemaOf(schema: z.ZodType): JsonSchemaObject {
  const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as JsonSchemaObject;
  delete json['$schema'];
  return json;
}

/** Where the schema of a type is checked in, relative to `docs/`: `schemas/<type>.json`. */
export function eventJsonSchemaPath(type: EventType): string {
  return `schemas/${type}.json`;
}

/**
 * The JSON Schema of one whole event as it travels: the CloudEvents 1.0 envelope with `type`,
 * `subject`, `datacontenttype` and `dataversion` fixed for the type, and `data` inline. Generated
 * from the same zod schemas as the decoders, so a Go, Java or Python service can validate what it
 * reads with any draft-07 validator. `dataversion` is the version this schema describes; it is
 * optional, because a plain CloudEvent without it is read as version 1.
 */
export function eventJsonSchema(type: EventType): JsonSchemaObject {
  const keyField = eventSubjectFields[type];
  const envelope = cloudEventEnvelopeSchema.extend({
    type: z.literal(type).describe('The event type.'),
    subject: z.string().min(1).describe(`Equals \`data.${keyField}\`; its escaped form is the last token of the NATS subject.`),
    datacontenttype: z.literal('application/json').describe('Media type of `data`.'),
    // Optional on intake: the decoder reads a missing dataversion as version 1 (idm always sets it).
    dataversion: z
      .literal(eventDataVersions[type])
      .optional()
      .describe(`Extension: version of the schema of \`data\`. Always set by idm-events; absent means version ${IMPLIED_DATA_VERSION}.`),
    data: eventDataSchemas[type],
  });
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `urn:idm-events:event:${type}:v${eventDataVersions[type]}`,
    title: `${eventNameOf(type)} event`,
    description: eventDataSchemas[type].description ?? type,
    ...jsonSchemaOf(envelope),
  };
}

/**
 * Every type's schema file, keyed by its path under `docs/` ({@link eventJsonSchemaPath}), as the
 * text checked in there (a spec fails when they differ). Regenerate with `npm run asyncapi`.
 */
export function renderEventJsonSchemas(): ReadonlyMap<string, string> {
  return new Map(ALL_EVENT_TYPES.map((type) => [eventJsonSchemaPath(type), `${JSON.stringify(eventJsonSchema(type), null, 2)}\n`]));
}
