import type { CloudEvent } from './envelope.js';
import { isEventType, type EventType } from './event-types.js';

/**
 * Subject keys: a key made only of ASCII letters, digits, `-` and `_` is used as it is. Every
 * other character is written as its UTF-8 bytes, each `~HH` (upper-case hex), so `a.b@c` →
 * `a~2Eb~40c` and `é` → `~C3~A9`. `~` itself is escaped (`~7E`). Only this canonical form decodes,
 * so the mapping is one-to-one: one key, one token, one filter.
 */
const PLAIN = /^[A-Za-z0-9_-]$/;
/** An unpaired UTF-16 surrogate has no UTF-8 form, so it could not round-trip. */
export const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Raised for a key that cannot stand in a NATS subject (empty) or an escape that does not decode. */
export class SubjectKeyError extends Error {
  override readonly name = 'SubjectKeyError';
  readonly code = 'IDM_SUBJECT_KEY_INVALID';
}

/**
 * Escapes a CloudEvents `subject` (a user id, a schedule name) into a single NATS subject token.
 * The token never contains `.`, `*`, `>` or whitespace.
 * @throws SubjectKeyError for an empty key or one with an unpaired surrogate.
 */
export function encodeSubjectKey(key: string): string {
  if (key.length === 0) throw new SubjectKeyError('a subject key must not be empty');
  if (LONE_SURROGATE.test(key)) throw new SubjectKeyError('a subject key must be well-formed Unicode (unpaired surrogate)');
  let out = '';
  for (const ch of key) {
    if (PLAIN.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Reverses {@link encodeSubjectKey}.
 * @throws SubjectKeyError for a token that {@link encodeSubjectKey} would not produce: a bad or
 * lower-case escape, an escaped plain character (`~41`), invalid UTF-8, or a character that must be escaped.
 */
export function decodeSubjectKey(token: string): string {
  if (token.length === 0) throw new SubjectKeyError('a subject token must not be empty');
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const ch = token[i]!;
    if (ch === '~') {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new SubjectKeyError(`bad escape at position ${i} in subject token ${JSON.stringify(token)}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (PLAIN.test(ch)) {
      bytes.push(ch.charCodeAt(0));
    } else {
      throw new SubjectKeyError(`character ${JSON.stringify(ch)} must be escaped in subject token ${JSON.stringify(token)}`);
    }
  }
  let key: string;
  try {
    key = strictUtf8.decode(Uint8Array.from(bytes));
  } catch (cause) {
    throw new SubjectKeyError(`subject token ${JSON.stringify(token)} does not decode to UTF-8`, { cause });
  }
  if (encodeSubjectKey(key) !== token) throw new SubjectKeyError(`subject token ${JSON.stringify(token)} is not in canonical form`);
  return key;
}

/** The NATS subject an event is published on: `<type>.<escaped key>`, e.g. `idm.user.added.u1001`. */
export function subjectFor(type: EventType, key: string): string {
  return `${type}.${encodeSubjectKey(key)}`;
}

/** The NATS subject of an event: {@link subjectFor} its `type` and CloudEvents `subject`. */
export function eventSubject(event: Pick<CloudEvent<EventType>, 'type' | 'subject'>): string {
  return subjectFor(event.type, event.subject);
}

/** The event-type prefixes captured by the log stream. Commands (`idm.cmd.>`) are never stored. */
export const STREAM_SUBJECTS = ['idm.user.>', 'idm.password.>', 'idm.bulk-task.>', 'idm.email.>'] as const;

/** Prefix of core-NATS request/reply commands, which are deliberately outside the stream. */
export const COMMAND_PREFIX = 'idm.cmd';

/** A filter matching every event of one type: `idm.user.added.*`. */
export function typeFilter(type: EventType): string {
  return `${type}.*`;
}

/** A filter matching every event about one key (user or schedule): `idm.*.*.<key>`. */
export function keyFilter(key: string): string {
  return `idm.*.*.${encodeSubjectKey(key)}`;
}

/**
 * Splits a NATS event subject into its known event type and decoded key. Returns undefined for
 * anything else: another shape, an unknown type, a command (`idm.cmd.…`) or a non-canonical key.
 */
export function parseEventSubject(subject: string): { type: EventType; key: string } | undefined {
  const tokens = subject.split('.');
  if (tokens.length !== 4) return undefined;
  const type = tokens.slice(0, 3).join('.');
  if (!isEventType(type)) return undefined;
  try {
    return { type, key: decodeSubjectKey(tokens[3]!) };
  } catch {
    return undefined;
  }
}
