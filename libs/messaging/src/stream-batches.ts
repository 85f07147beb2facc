import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { decodeEvent, type IdmEvent } from '@idm/contracts';

/** One message read from the log: the decoded event, or why it could not be decoded. */
export type StreamEntry =
  | { readonly seq: number; readonly subject: string; readonly event: IdmEvent; readonly error?: undefined }
  | { readonly seq: number; readonly subject: string; readonly event?: undefined; readonly error: Error };

/** Where and how far to read. */
export interface StreamBatchOptions {
  readonly stream: string;
  /** First stream sequence to read (default 1). Not together with `since`. */
  readonly fromSeq?: number;
  /** Read messages stored at or after this time. Not together with `fromSeq`. */
  readonly since?: Date;
  /** Only these subjects (wildcards allowed); default everything in the stream. */
  readonly filterSubjects?: readonly string[];
  /** Messages per batch handed to the callback (default 1000). */
  readonly batchSize?: number;
}

/** Where the read stands after a batch. */
export interface StreamBatchProgress {
  /** Messages read so far. */
  readonly read: number;
  /** Messages still to read, as the server counts them (matching the filter). */
  readonly pending: number;
  /** Sequence of the last message read. */
  readonly seq: number;
}

/** What a whole read did. */
export interface StreamBatchResult {
  readonly read: number;
  /** Sequence of the last message read; 0 when none was. */
  readonly lastSeq: number;
}

/**
 * Reads the stream from a sequence or a time up to the message that was last when the read
 * began, with an ordered (ephemeral, flow-controlled, self-recovering) consumer, and hands the
 * messages to `onBatch` in stream order, in batches. The next batch is pulled only once
 * `onBatch` settles, so a slow writer slows the read instead of buffering the stream in memory.
 * Nothing is acked and no durable state is left on the server. Works on nats-server 2.9+.
 * @throws whatever `onBatch` throws (the read stops there), or the JetStream error.
 */
export async function readStreamInBatches(
  js: JetStreamClient,
  jsm: JetStreamManager,
  options: StreamBatchOptions,
  onBatch: (batch: readonly StreamEntry[], progress: StreamBatchProgress) => Promise<void>,
): Promise<StreamBatchResult> {
  const batchSize = options.batchSize ?? 1000;
  const info = await jsm.streams.info(options.stream);
  const endSeq = info.state.last_seq;
  const fromSeq = Math.max(options.fromSeq ?? 1, info.state.first_seq);
  if (info.state.messages === 0 || endSeq < fromSeq) return { read: 0, lastSeq: 0 };
  if (options.since) {
    // An ordered consumer starting after the last message would wait forever: check first.
    const last = await jsm.streams.getMessage(options.stream, { seq: endSeq });
    if (!last || last.time.getTime() < options.since.getTime()) return { read: 0, lastSeq: 0 };
  }
  const consumerOptions: Partial<OrderedConsumerOptions> = options.since
    ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: options.since.toISOString() }
    : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq };
  const filters = options.filterSubjects ?? [];
  // Several filters on one consumer need nats-server 2.10+: with more than one, read everything
  // and filter here, which works on every server (a replay reads most of the log anyway).
  let keep: ((subject: string) => boolean) | undefined;
  if (filters.length === 1) consumerOptions.filter_subjects = filters[0]!;
  else if (filters.length > 1) keep = (subject) => filters.some((f) => subjectMatches(f, subject));
  const consumer = await js.consumers.get(options.stream, consumerOptions);
  const messages = await consumer.consume({ max_messages: Math.max(batchSize, 256) });
  let batch: StreamEntry[] = [];
  let read = 0;
  let lastSeq = 0;
  try {
    for await (const msg of messages) {
      const seq = msg.info.streamSequence;
      if (seq > endSeq) break;
      let entry: StreamEntry;
      try {
        entry = { seq, subject: msg.subject, event: decodeEvent(msg.data) };
      } catch (err) {
        entry = { seq, subject: msg.subject, error: err instanceof Error ? err : new Error(String(err)) };
      }
      const wanted = !keep || keep(msg.subject);
      if (wanted) batch.push(entry);
      if (wanted) read += 1;
      lastSeq = seq;
      const done = msg.info.pending === 0 || seq >= endSeq;
      if (batch.length >= batchSize || done) {
        const full = batch;
        batch = [];
        await onBatch(full, { read, pending: done ? 0 : msg.info.pending, seq });
      }
      if (done) break;
    }
  } finally {
    await messages.close().catch(() => undefined);
  }
  return { read, lastSeq };
}

/** NATS wildcard matching: `*` one token, `>` the rest (at least one token). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
