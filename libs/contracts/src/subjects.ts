import type { EventType } from './event-types.js';

/**
 * Subject keys: a key made only of letters, digits, `-` and `_` is used as it is. Every other
 * UTF-8 byte is written `~HH` (upper-case hex), so `a.b@c` → `a~2Eb~40c`. The mapping is
 * one-to-one and reversible with {@link decodeSubjectKey}; `~` itself is escaped (`~7E`).
 */
const PLAIN = /^[A-Za-z0-9_-]$/;

/** Raised for a key that cannot stand in a NATS subject (empty) or an escape that does not decode. */
export class SubjectKeyError extends Error {
  override readonly name = 'SubjectKeyError';
  readonly code = 'IDM_SUBJECT_KEY_INVALID';
}

/** Escapes a CloudEvents `subject` (a user id, a schedule name) into a single NATS subject token. */
export function encodeSubjectKey(key: string): string {
  if (key.length === 0) throw new SubjectKeyError('a subject key must not be empty');
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

/** Reverses {@link encodeSubjectKey}. */
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
  return Buffer.from(bytes).toString('utf8');
}

/** The NATS subject an event is published on: `<type>.<escaped key>`, e.g. `idm.user.added.u1001`. */
export function subjectFor(type: EventType, key: string): string {
  return `${type}.${encodeSubjectKey(key)}`;
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

/** Splits a NATS event subject into its type and decoded key, or returns undefined if it is not one. */
export function parseEventSubject(subject: string): { type: string; key: string } | undefined {
  const tokens = subject.split('.');
  if (tokens.length !== 4 || tokens[0] !== 'idm') return undefined;
  try {
    return { type: tokens.slice(0, 3).join('.'), key: decodeSubjectKey(tokens[3]!) };
  } catch {
    return undefined;
  }
}
