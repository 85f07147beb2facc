import { eventJsonSchema, type EventType } from '@idm/contracts';
import { usage } from '../cli-error.js';

/** How a flag's text becomes the field's value. */
export type FieldKind = 'text' | 'integer' | 'boolean' | 'json';

/**
 * One data field of an event type as `idm publish` offers it: a `--kebab-case` flag. Everything
 * here is read from the JSON Schema that `@idm/contracts` generates from its zod schemas (the same
 * one checked in under docs/schemas), so the help, the parsing of a flag and the error messages
 * cannot drift from what the decoder accepts.
 */
export interface EventField {
  /** The data field, e.g. `userId`. */
  readonly name: string;
  /** The flag without dashes, e.g. `user-id`. */
  readonly flag: string;
  readonly required: boolean;
  readonly kind: FieldKind;
  /** `null` is a valid value (`--expires-at null`). */
  readonly nullable: boolean;
  /** What a value must be, in words: "an email address", "one of deleted, moved-out-of-scope". */
  readonly expected: string;
  /** The schema's description of the field, when it has one. */
  readonly description: string | undefined;
}

type JsonSchema = {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly anyOf?: readonly JsonSchema[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly description?: string;
};

/** `userId` → `user-id`. */
export const kebab = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

function textInWords(s: JsonSchema): string {
  if (s.format === 'email') return 'an email address';
  if (s.format === 'date-time') return 'an ISO-8601 time with a zone, e.g. 2026-01-31T09:00:00Z';
  if (s.pattern !== undefined) return `text matching ${s.pattern}`;
  const min = s.minLength ?? 0;
  if (s.maxLength !== undefined)
    return min > 0 ? `text of ${min} to ${s.maxLength} characters` : `text of at most ${s.maxLength} characters`;
  return min > 0 ? 'non-empty text' : 'text';
}

function inWords(s: JsonSchema): string {
  if (s.anyOf) return s.anyOf.map(inWords).join(' or ');
  if (s.enum) return `one of ${s.enum.map(String).join(', ')}`;
  switch (s.type) {
    case 'string':
      return textInWords(s);
    case 'integer':
    case 'number': {
      const what = s.type === 'integer' ? 'a whole number' : 'a number';
      return s.minimum !== undefined && s.minimum > 0 ? `${what} ≥ ${s.minimum}` : s.minimum === 0 ? `${what} ≥ 0` : what;
    }
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array':
      return 'a JSON array';
    case 'object':
      return s.properties ? `a JSON object with ${Object.keys(s.properties).join(', ')}` : 'a JSON object';
    default:
      return 'a JSON value';
  }
}

function kindOf(s: JsonSchema): FieldKind {
  const types = (s.anyOf ?? [s]).map((a) => (a.enum ? 'string' : a.type)).filter((t) => t !== 'null');
  if (types.length === 1 && types[0] === 'string') return 'text';
  if (types.length === 1 && (types[0] === 'integer' || types[0] === 'number')) return 'integer';
  if (types.length === 1 && types[0] === 'boolean') return 'boolean';
  return 'json';
}

/** The data schema of a type, as JSON Schema (the `data` property of the event's schema). */
function dataSchemaOf(type: EventType): JsonSchema {
  return (eventJsonSchema(type) as { properties: { data: JsonSchema } }).properties.data;
}

/** What the data of `type` is, in one sentence: the schema's description. */
export function eventDescription(type: EventType): string {
  return dataSchemaOf(type).description ?? type;
}

/** Every data field of `type`, in schema order. */
export function eventFields(type: EventType): EventField[] {
  const data = dataSchemaOf(type);
  const required = new Set(data.required ?? []);
  return Object.entries(data.properties ?? {}).map(([name, s]) => ({
    name,
    flag: kebab(name),
    required: required.has(name),
    kind: kindOf(s),
    nullable: (s.anyOf ?? []).some((a) => a.type === 'null'),
    expected: inWords(s),
    description: s.description,
  }));
}

/** The help line of a field's flag: what it takes, whether it is required, and its description. */
export function fieldHelp(field: EventField): string {
  return `${field.required ? 'required' : 'optional'}: ${field.expected}${field.description ? ` — ${field.description}` : ''}`;
}

/**
 * A flag's text as the field's value: a number, a boolean, parsed JSON, null or the text itself.
 * @throws CliError (usage) naming the flag and what it expects, when the text cannot be that.
 */
export function fieldValue(field: EventField, raw: string): unknown {
  if (field.nullable && raw === 'null') return null;
  const wrong = (): never => {
    throw usage(`--${field.flag}: expected ${field.expected}, got ${JSON.stringify(raw)}`);
  };
  switch (field.kind) {
    case 'text':
      return raw;
    case 'integer':
      return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : wrong();
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : wrong();
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return wrong();
      }
  }
}

/** One validation issue, as zod reports it (only what is needed to say it in words). */
export interface FieldIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * The issues of a failed validation in words, each naming the flag: `--reason is required:
 * expected one of deleted, moved-out-of-scope`; `--email: expected an email address, got "nope"`.
 */
export function explainIssues(
  fields: readonly EventField[],
  data: Readonly<Record<string, unknown>>,
  issues: readonly FieldIssue[],
): string {
  return issues
    .map((issue) => {
      const [head, ...rest] = issue.path;
      const field = fields.find((f) => f.name === head);
      if (!field) return `${issue.path.map(String).join('.') || 'data'}: ${issue.message}`;
      const value = data[field.name];
      if (value === undefined) return `--${field.flag} is required: expected ${field.expected}`;
      const inner = rest.length > 0 ? ` (${rest.map(String).join('.')}: ${issue.message})` : '';
      return `--${field.flag}: expected ${field.expected}, got ${JSON.stringify(value)}${inner}`;
    })
    .join('; ');
}
