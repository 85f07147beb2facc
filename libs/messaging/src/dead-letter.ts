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
  /** The original payload: UTF-8 text when it is valid UTF-8, otherwise base64. */
  readonly payload: string;
  readonly payloadEncoding: 'utf8' | 'base64';
  readonly headers: Record<string, string[]>;
  readonly deadLetteredAt: string;
}

/** The subject dead letters of `consumer` are stored under. */
export function deadLetterSubject(consumer: string): string {
  return `${DEAD_LETTER_SUBJECT_PREFIX}.${consumer}`;
}

/** Builds the record for a delivery. Pure apart from reading the message. */
export function deadLetterRecord(msg: JsMsg, consumer: string, reason: DeadLetterReason, code: string, error: string, now: Date): DeadLetterRecord {
  const text = Buffer.from(msg.data).toString('utf8');
  const isUtf8 = Buffer.from(text, 'utf8').equals(Buffer.from(msg.data));
  const headers: Record<string, string[]> = {};
  if (msg.headers) for (const [k, v] of msg.headers) headers[k] = v;
  return {
    consumer,
    reason,
    code,
    error,
    stream: msg.info.stream,
    streamSequence: msg.info.streamSequence,
    subject: msg.subject,
    deliveryCount: msg.info.deliveryCount,
    payload: isUtf8 ? text : Buffer.from(msg.data).toString('base64'),
    payloadEncoding: isUtf8 ? 'utf8' : 'base64',
    headers,
    deadLetteredAt: now.toISOString(),
  };
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
