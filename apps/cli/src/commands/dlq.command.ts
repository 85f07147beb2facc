import { createHash } from 'node:crypto';
import { deadLetterStreamName, type DeadLetterRecord } from '@idm/messaging';
import { CliError, usage } from '../cli-error.js';
import { parse } from '../command.js';
import { openSession, type NatsSession } from '../nats-session.js';

interface StoredDeadLetter {
  readonly seq: number;
  readonly record: DeadLetterRecord;
}

async function readDeadLetters(session: NatsSession, limit: number): Promise<StoredDeadLetter[]> {
  const name = deadLetterStreamName(session.stream);
  let info;
  try {
    info = await session.jsm.streams.info(name);
  } catch {
    return [];
  }
  const out: StoredDeadLetter[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0 && out.length < limit; seq++) {
    const msg = await session.jsm.streams.getMessage(name, { seq }).catch(() => null);
    if (msg) out.push({ seq, record: msg.json<DeadLetterRecord>() });
  }
  return out;
}

/**
 * The payload to retry. A record whose payload was truncated (too large for the dead-letter
 * stream) holds only a prefix: the original is read back from the event stream by its sequence,
 * and checked against the record's hash, while the stream still retains it.
 */
async function originalPayload(session: NatsSession, d: StoredDeadLetter): Promise<Uint8Array> {
  const { record } = d;
  if (!record.payloadTruncated) return record.payloadEncoding === 'base64' ? Buffer.from(record.payload, 'base64') : Buffer.from(record.payload, 'utf8');
  const original = await session.jsm.streams.getMessage(record.stream, { seq: record.streamSequence }).catch(() => null);
  if (!original || createHash('sha256').update(original.data).digest('hex') !== record.payloadSha256) {
    throw new CliError(
      `dead letter ${d.seq}: its payload (${record.payloadSize} bytes) was truncated and ${record.stream} #${record.streamSequence} no longer holds the original; drop it instead`,
      'IDM_CLI_NOT_FOUND',
    );
  }
  return original.data;
}

function selected(all: readonly StoredDeadLetter[], seqs: readonly string[], every: boolean): StoredDeadLetter[] {
  if (every) return [...all];
  if (seqs.length === 0) throw usage('give dead-letter sequence numbers (see `idm dlq list`) or --all');
  return seqs.map((s) => {
    const found = all.find((d) => String(d.seq) === s);
    if (!found) throw new CliError(`no dead letter with sequence ${s}`, 'IDM_CLI_NOT_FOUND');
    return found;
  });
}

/**
 * `idm dlq list | retry <seq…|--all> | drop <seq…|--all>` on `<IDM_STREAM>_DLQ`.
 * `retry` appends the original message again on its original subject (without its message id,
 * so the duplicate window does not swallow it; consumers that did handle it skip it by their
 * inbox) and removes the dead letter; `drop` only removes it.
 */
export async function dlqCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals, out, server } = parse(argv, { all: { type: 'boolean' }, limit: { type: 'string' } });
  const [sub, ...seqs] = positionals;
  if (sub !== 'list' && sub !== 'retry' && sub !== 'drop') throw usage('usage: idm dlq list | retry <seq…|--all> | drop <seq…|--all>');
  const limit = values.limit === undefined ? 1000 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw usage('--limit must be a positive integer');
  const session = await openSession(server);
  try {
    const letters = await readDeadLetters(session, sub === 'list' ? limit : Number.MAX_SAFE_INTEGER);
    if (sub === 'list') {
      out.data(letters.map((d) => ({ seq: d.seq, ...d.record })));
      out.heading(`dead letters in ${deadLetterStreamName(session.stream)}`);
      out.table(
        letters.map((d) => ({ seq: d.seq, consumer: d.record.consumer, reason: d.record.reason, subject: d.record.subject, eventSeq: d.record.streamSequence, error: d.record.error, at: d.record.deadLetteredAt })),
        ['seq', 'consumer', 'reason', 'subject', 'eventSeq', 'error', 'at'],
      );
      return 0;
    }
    const chosen = selected(letters, seqs, values.all ?? false);
    const done: Array<Record<string, unknown>> = [];
    for (const d of chosen) {
      if (sub === 'retry') {
        const payload = await originalPayload(session, d);
        const ack = await session.js.publish(d.record.subject, payload);
        await session.jsm.streams.deleteMessage(deadLetterStreamName(session.stream), d.seq);
        done.push({ seq: d.seq, action: 'retried', subject: d.record.subject, newSeq: ack.seq });
      } else {
        await session.jsm.streams.deleteMessage(deadLetterStreamName(session.stream), d.seq);
        done.push({ seq: d.seq, action: 'dropped', subject: d.record.subject });
      }
    }
    out.data(done);
    out.table(done);
    return 0;
  } finally {
    await session.close();
  }
}
