import { createHash } from 'node:crypto';
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { DEAD_LETTER_SUBJECT_PREFIX } from './stream-provisioning.js';
import type { DeadLetterReason } from './settlement.js';

/** A message a consumer gave up on, as stored in the dead-letter stream. */
export interface DeadLetterRecord {
  readonly consumer: string;
  readonly reason: DeadLetterReason;
  readonly code: string;
  readonly error: string;
  readonly stream: string;
  readonly streamSequence: number;
  readonly subject: string;
  readonly deliveryCount: number;
  /**
   * The original payload: UTF-8 text when it is valid UTF-8, otherwise base64. Only a prefix when
   * {@link payloadTruncated}: the whole original is then found by `stream` + `streamSequence`
   * while the event stream retains it.
   */
  readonly payload: string;
  readonly payloadEncoding: 'utf8' | 'base64';
  /** Size of the original payload in bytes. */
  readonly payloadSize: number;
  /** SHA-256 (hex) of the original payload, to check a copy fetched from the event stream. */
  readonly payloadSha256: string;
  /** True when `payload` was cut to keep the record under the dead-letter stream's size limit. */
  readonly payloadTruncated: boolean;
  /** Original headers; `{}` with {@link headersOmitted} when they alone were too large to keep. */
  readonly headers: Record<string, string[]>;
  readonly headersOmitted?: boolean;
  readonly deadLetteredAt: string;
}

/** Bytes left for the NATS headers the publish adds (`Nats-Msg-Id`) and the protocol framing. */
const HEADER_ALLOWANCE = 1_024;
/** Longest error text kept; a handler error that quotes a whole payload must not crowd it out. */
const MAX_ERROR_CHARS = 4_096;
/** Headers larger than this (serialised) are dropped before any payload is cut. */
const MAX_HEADER_BYTES = 16_384;

/** The subject dead letters of `consumer` are stored under. */
export function deadLetterSubject(consumer: string): string {
  return `${DEAD_LETTER_SUBJECT_PREFIX}.${consumer}`;
}

/** The parts of a delivery a dead-letter record is made of (what {@link deadLetterRecord} reads from a `JsMsg`). */
export type DeadLetterSource = Pick<
  DeadLetterRecord,
  'consumer' | 'reason' | 'code' | 'error' | 'stream' | 'streamSequence' | 'subject' | 'deliveryCount' | 'headers'
> & {
  readonly data: Uint8Array;
  readonly now: Date;
};

/**
 * Builds the record for a delivery, never larger than `maxBytes` once serialised (the
 * dead-letter stream's `max_msg_size` and the server's `max_payload`, whichever is smaller).
 * A payload that does not fit is cut to a prefix (on a character boundary when it is text) and
 * marked `payloadTruncated`, with the original size and SHA-256; over-long error texts and
 * headers are cut first. The source stream and sequence are always kept. Pure.
 */
export function boundedDeadLetterRecord(source: DeadLetterSource, maxBytes: number): DeadLetterRecord {
  const data = Buffer.from(source.data);
  const text = data.toString('utf8');
  const isUtf8 = Buffer.from(text, 'utf8').equals(data);
  const headersTooLarge = Buffer.byteLength(JSON.stringify(source.headers)) > MAX_HEADER_BYTES;
  const base = {
    consumer: source.consumer,
    reason: source.reason,
    code: source.code,
    error:
      source.error.length > MAX_ERROR_CHARS
        ? `${source.error.slice(0, MAX_ERROR_CHARS)}… (${source.error.length} characters)`
        : source.error,
    stream: source.stream,
    streamSequence: source.streamSequence,
    subject: source.subject,
    deliveryCount: source.deliveryCount,
    payloadSize: data.length,
    payloadSha256: createHash('sha256').update(data).digest('hex'),
    headers: headersTooLarge ? {} : source.headers,
    ...(headersTooLarge ? { headersOmitted: true } : {}),
    deadLetteredAt: source.now.toISOString(),
  };
  const withPayload = (bytes: number, truncated: boolean): DeadLetterRecord => {
    const part = data.subarray(0, bytes);
    // A cut inside a multi-byte character decodes to U+FFFD at the end: drop it.
    const decoded = isUtf8 ? part.toString('utf8') : '';
    const payload = isUtf8 ? (truncated ? decoded.replace(/\uFFFD+$/, '') : decoded) : part.toString('base64');
    return { ...base, payload, payloadEncoding: isUtf8 ? 'utf8' : 'base64', payloadTruncated: truncated };
  };
  const budget = Math.max(0, maxBytes - HEADER_ALLOWANCE);
  let record = withPayload(data.length, false);
  let size = serialisedSize(record);
  if (size <= budget) return record;
  // Shrink the prefix in proportion to the overshoot until it fits (JSON escaping and base64 make
  // the size of a prefix nonlinear, so measure rather than compute); a few rounds at most.
  let keep = data.length;
  while (size > budget && keep > 0) {
    const overhead = serialisedSize(withPayload(0, true));
    const ratio = Math.max(0, budget - overhead) / Math.max(1, size - overhead);
    keep = Math.min(keep - 1, Math.floor(keep * ratio));
    record = withPayload(Math.max(0, keep), true);
    size = serialisedSize(record);
  }
  return record;
}

function serialisedSize(record: DeadLetterRecord): number {
  return Buffer.byteLength(JSON.stringify(record));
}

/** Builds the record for a delivery (see {@link boundedDeadLetterRecord}). */
export function deadLetterRecord(
  msg: JsMsg,
  consumer: string,
  reason: DeadLetterReason,
  code: string,
  error: string,
  now: Date,
  maxBytes: number,
): DeadLetterRecord {
  const headers: Record<string, string[]> = {};
  if (msg.headers) for (const [k, v] of msg.headers) headers[k] = v;
  return boundedDeadLetterRecord(
    {
      consumer,
      reason,
      code,
      error,
      stream: msg.info.stream,
      streamSequence: msg.info.streamSequence,
      subject: msg.subject,
      deliveryCount: msg.info.deliveryCount,
      data: msg.data,
      headers,
      now,
    },
    maxBytes,
  );
}

/**
 * Stores a dead-letter record and waits for the PubAck. The message id is (consumer, stream
 * sequence), so dead-lettering the same delivery twice (crash before term) stores it once.
 */
export async function writeDeadLetter(js: JetStreamClient, record: DeadLetterRecord): Promise<void> {
  await js.publish(deadLetterSubject(record.consumer), JSON.stringify(record), {
    msgID: `dlq:${record.consumer}:${record.stream}:${record.streamSequence}`,
  });
}
