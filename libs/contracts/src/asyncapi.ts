import { Document } from 'yaml';
import { COMMAND_CATALOGUE } from './command-catalogue.js';
import { CommandSubjects } from './commands.js';
import { IMPLIED_DATA_VERSION } from './envelope.js';
import { eventDataSchemas, eventDataVersions, eventSubjectFields } from './event-data.schemas.js';
import { eventJsonSchema, eventJsonSchemaPath, jsonSchemaOf } from './event-json-schema.js';
import { ALL_EVENT_TYPES, eventNameOf, type EventType } from './event-types.js';
import { STREAM_SUBJECTS } from './subjects.js';

/**
 * Version of the published contract (AsyncAPI `info.version`). Bump the minor version when a type
 * or a `dataversion` is added; never remove or rename a type (type names are frozen).
 */
export const CONTRACT_VERSION = '1.2.0';

/** The default JetStream stream that stores every event (overridden with `IDM_STREAM`). */
export const DEFAULT_STREAM_NAME = 'IDM_EVENTS';

type JsonObject = Record<string, unknown>;

const ref = (pointer: string): JsonObject => ({ $ref: pointer });

const description = `Event log and commands of **idm-events**, written from the point of view of a client:
you *receive* events and *send* commands.

**Envelope.** Every event is a CloudEvents 1.0 JSON structured-mode message: \`specversion\`, \`id\`,
\`source\`, \`type\`, \`subject\`, \`time\`, \`datacontenttype\`, \`data\`, and the extensions
\`dataversion\` (schema version of \`data\`), \`correlationid\` and \`causationid\`. \`id\` is also the
JetStream \`Nats-Msg-Id\` header, so re-publishing an event is deduplicated. idm-events always writes
\`dataversion\`; an event published by another service without it (a plain CloudEvent) is read as
version ${IMPLIED_DATA_VERSION}, and an unknown version is refused (dead-lettered as \`unsupported-version\`).

**Subjects.** An event is published on \`<type>.<key>\` where the key is the CloudEvents \`subject\`:
the user id, or the schedule name for \`idm.bulk-task.tick\`. A key made only of ASCII letters,
digits, \`-\` and \`_\` stands as it is; every other character is written as its UTF-8 bytes, each as
\`~HH\` (upper-case hex), so \`jane.doe@example.com\` → \`jane~2Edoe~40example~2Ecom\` and \`~\` → \`~7E\`.
Only this canonical form is used, so a key has exactly one subject token.

**Stream.** The JetStream stream \`${DEFAULT_STREAM_NAME}\` (name configurable with \`IDM_STREAM\`) captures
${STREAM_SUBJECTS.map((s) => `\`${s}\``).join(', ')}. Commands under \`idm.cmd.>\` are core NATS
request/reply and are never stored.

**Filters.** \`idm.user.>\` (every user event), \`idm.email.sent.>\` (one type), \`idm.*.*.u1001\`
(everything about user \`u1001\`).

**Versioning.** Type names are frozen. An incompatible change of \`data\` bumps that type's
\`dataversion\`; the decoder upcasts old versions. Additive optional fields keep the version, so
ignore fields you do not know.`;

function tagOf(type: EventType): string {
  return type.split('.')[1]!;
}

/** The message payload: the type's whole-event JSON Schema with `data` pointing at the shared component. */
function eventEnvelopeSchema(type: EventType): JsonObject {
  const { $schema: _dialect, $id: _id, description: _description, ...schema } = eventJsonSchema(type);
  const properties = { ...(schema['properties'] as JsonObject), data: ref(`#/components/schemas/${eventNameOf(type)}Data`) };
  return { ...schema, properties };
}

function keyParameter(type: EventType): JsonObject {
  const keyField = eventSubjectFields[type];
  return {
    description: `The CloudEvents \`subject\` (= \`data.${keyField}\`), escaped: ASCII letters, digits, \`-\` and \`_\` as they are, every other UTF-8 byte as \`~HH\`.`,
    examples: keyField === 'schedule' ? ['nightly-email', 'hourly'] : ['u1001', 'jane~2Edoe'],
  };
}

/**
 * Builds the AsyncAPI 3.0.0 document of the public contract from the zod schemas: one NATS server,
 * one channel per event type (address `<type>.{key}`), a `receive` operation per type, and each
 * request/reply subject of {@link COMMAND_CATALOGUE} (`idm.cmd.…`) as a `send` operation with a reply. Message payloads are
 * the whole CloudEvents envelope; `data` refers to the JSON Schema generated from the type's schema.
 * Deterministic: the same code always yields the same document.
 */
export function buildAsyncApiDocument(): Record<string, unknown> {
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};
  const schemas: JsonObject = {};

  for (const type of ALL_EVENT_TYPES) {
    const name = eventNameOf(type);
    const summary = eventDataSchemas[type].description ?? type;
    channels[name] = {
      address: `${type}.{key}`,
      title: name,
      description: `Every \`${type}\` event, stored in the stream. Filter \`${type}.>\` for all keys.`,
      parameters: { key: keyParameter(type) },
      messages: { [name]: ref(`#/components/messages/${name}`) },
      tags: [{ name: tagOf(type) }],
    };
    operations[`receive${name}`] = {
      action: 'receive',
      title: `Receive ${type}`,
      summary,
      channel: ref(`#/channels/${name}`),
      messages: [ref(`#/channels/${name}/messages/${name}`)],
      tags: [{ name: tagOf(type) }],
    };
    messages[name] = {
      name: type,
      title: name,
      summary,
      contentType: 'application/cloudevents+json',
      headers: ref('#/components/schemas/NatsEventHeaders'),
      correlationId: ref('#/components/correlationIds/CorrelationId'),
      payload: eventEnvelopeSchema(type),
      // The standalone draft-07 schema of the whole event, beside this file (docs/schemas/), for
      // validators in any language. An extension: AsyncAPI's externalDocs must be an absolute URI.
      'x-json-schema': eventJsonSchemaPath(type),
    };
    schemas[`${name}Data`] = { title: `${name} data v${eventDataVersions[type]}`, ...jsonSchemaOf(eventDataSchemas[type]) };
  }

  for (const command of COMMAND_CATALOGUE) {
    const { name } = command;
    const secret = command.subject === CommandSubjects.PasswordChange;
    channels[name] = {
      address: command.subject,
      title: name,
      description: secret
        ? 'Core NATS request/reply command. Carries a password, so it is outside every stream and never stored.'
        : `Core NATS request/reply, answered by ${command.answeredBy} (one replica, queue group). Never stored.`,
      messages: { [`${name}Request`]: ref(`#/components/messages/${name}Request`) },
      tags: [{ name: command.tag }],
    };
    channels[`${name}Reply`] = {
      // A null address is AsyncAPI's "dynamic": NATS replies go to the requester's own inbox subject.
      address: null,
      title: `${name}Reply`,
      description: "The requester's NATS reply inbox (`_INBOX.…`), chosen by the client library per request.",
      messages: { [`${name}Reply`]: ref(`#/components/messages/${name}Reply`) },
      tags: [{ name: command.tag }],
    };
    operations[command.operation] = {
      action: 'send',
      title: name,
      summary: command.summary,
      channel: ref(`#/channels/${name}`),
      messages: [ref(`#/channels/${name}/messages/${name}Request`)],
      reply: {
        channel: ref(`#/channels/${name}Reply`),
        messages: [ref(`#/channels/${name}Reply/messages/${name}Reply`)],
      },
      tags: [{ name: command.tag }],
    };
    messages[`${name}Request`] = {
      name: command.subject,
      title: `${name}Request`,
      summary: secret ? 'Request to change a password. `password` is secret (writeOnly).' : (command.request.description ?? name),
      contentType: 'application/json',
      payload: jsonSchemaOf(command.request),
    };
    messages[`${name}Reply`] = {
      name: `${command.subject}.reply`,
      title: `${name}Reply`,
      summary: command.reply.description ?? `Reply to ${command.subject}.`,
      contentType: 'application/json',
      payload: jsonSchemaOf(command.reply),
    };
  }
  schemas['NatsEventHeaders'] = {
    type: 'object',
    properties: {
      'Nats-Msg-Id': { type: 'string', description: 'Equals the CloudEvents `id`; JetStream drops a duplicate within its window.' },
    },
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'idm-events',
      version: CONTRACT_VERSION,
      description,
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      tags: [
        { name: 'user', description: 'User accounts in the source directory.' },
        { name: 'password', description: 'Password changes and their synchronisation.' },
        { name: 'bulk-task', description: 'Cron schedule ticks.' },
        { name: 'email', description: 'Notification emails.' },
        { name: 'command', description: 'Core NATS request/reply commands; never stored.' },
        {
          name: 'operator',
          description: 'Core NATS request/reply queries and actions of operator tools (`idm`, the console); never stored.',
        },
      ],
    },
    defaultContentType: 'application/cloudevents+json',
    'x-jetstream': {
      stream: DEFAULT_STREAM_NAME,
      streamEnv: 'IDM_STREAM',
      subjects: [...STREAM_SUBJECTS],
      duplicateHeader: 'Nats-Msg-Id',
    },
    servers: {
      nats: {
        host: '{host}:{port}',
        protocol: 'nats',
        title: 'NATS with JetStream',
        description: `Events are stored in the JetStream stream \`${DEFAULT_STREAM_NAME}\`; commands use core NATS request/reply.`,
        variables: {
          host: { default: 'localhost', description: 'NATS server host.' },
          port: { default: '4222', description: 'NATS client port.' },
        },
      },
    },
    channels,
    operations,
    components: {
      schemas,
      messages,
      correlationIds: {
        CorrelationId: {
          description: 'Shared by every event of one causal chain; `causationid` names the direct cause.',
          location: '$message.payload#/correlationid',
        },
      },
    },
  };
}

/**
 * The AsyncAPI document as YAML, exactly as checked in at `docs/asyncapi.yaml` (a spec fails when
 * they differ). Regenerate with `npm run asyncapi`.
 */
export function renderAsyncApiYaml(): string {
  const doc = new Document(buildAsyncApiDocument());
  doc.commentBefore = ' Generated from libs/contracts by scripts/generate-asyncapi.mjs (npm run asyncapi). Do not edit by hand.';
  return doc.toString({ lineWidth: 0 });
}
