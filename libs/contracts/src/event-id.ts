import { createHash, randomUUID } from 'node:crypto';

/** A fresh, random event id (UUID v4), for facts that are not caused by another event. */
export function newEventId(): string {
  return randomUUID();
}

/**
 * A deterministic event id (UUID v8 layout, SHA-256 based) from the parts that identify an effect,
 * e.g. (causing event id, output type, key). A handler that is retried after a crash derives the
 * same id, so JetStream's duplicate window drops the second append.
 */
export function deriveEventId(...parts: readonly string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
