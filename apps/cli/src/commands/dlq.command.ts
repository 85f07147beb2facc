import { deadLetterStreamName } from '@idm/messaging';
import type { StoredDeadLetter } from '@idm/operations';
import { CliError, usage } from '../cli-error.js';
import { parse } from '../command.js';
import { openSession } from '../nats-session.js';

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
    const letters = await session.ops.deadLetters(sub === 'list' ? limit : Number.MAX_SAFE_INTEGER);
    if (sub === 'list') {
      out.data(letters.map((d) => ({ seq: d.seq, ...d.record })));
      out.heading(`dead letters in ${deadLetterStreamName(session.stream)}`);
      out.table(
        letters.map((d) => ({
          seq: d.seq,
          consumer: d.record.consumer,
          reason: d.record.reason,
          subject: d.record.subject,
          eventSeq: d.record.streamSequence,
          error: d.record.error,
          at: d.record.deadLetteredAt,
        })),
        ['seq', 'consumer', 'reason', 'subject', 'eventSeq', 'error', 'at'],
      );
      return 0;
    }
    const chosen = selected(letters, seqs, values.all ?? false);
    const done: Array<Record<string, unknown>> = [];
    for (const d of chosen) {
      if (sub === 'retry') {
        const newSeq = await session.ops.retryDeadLetter(d);
        done.push({ seq: d.seq, action: 'retried', subject: d.record.subject, newSeq });
      } else {
        await session.ops.dropDeadLetter(d);
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
