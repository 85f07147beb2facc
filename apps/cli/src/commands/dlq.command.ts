import { deadLetterStreamName } from '@idm/messaging';
import type { StoredDeadLetter } from '@idm/operations';
import { CliError, usage } from '../cli-error.js';
import type { Command } from 'commander';
import { connecting, outputOf, positiveInteger, type ConnectingOptions } from '../command.js';
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
export function dlqCommand(program: Command): void {
  const dlq = program.command('dlq').description('list the dead letters, append them again (retry) or remove them (drop)');
  connecting(
    dlq
      .command('list')
      .description('the dead letters: consumer, reason, original subject and sequence, error')
      .option('--limit <n>', 'show at most n dead letters', positiveInteger, 1000),
  ).action((options: ListOptions) => list(options));
  for (const [action, description] of [
    ['retry', 'append each chosen message again on its original subject, then remove its dead letter'],
    ['drop', 'remove the chosen dead letters without appending anything'],
  ] as const) {
    connecting(
      dlq
        .command(action)
        .description(description)
        .argument('[seq...]', 'dead-letter sequence numbers (see idm dlq list)')
        .option('--all', 'every dead letter'),
    ).action((seqs: string[], options: ActOptions) => act(action, seqs, options));
  }
}

interface ListOptions extends ConnectingOptions {
  readonly limit: number;
}

interface ActOptions extends ConnectingOptions {
  readonly all?: boolean;
}

async function list(options: ListOptions): Promise<void> {
  const out = outputOf(options);
  const session = await openSession(options);
  try {
    const letters = await session.ops.deadLetters(options.limit);
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
  } finally {
    await session.close();
  }
}

async function act(action: 'retry' | 'drop', seqs: readonly string[], options: ActOptions): Promise<void> {
  const out = outputOf(options);
  const session = await openSession(options);
  try {
    const chosen = selected(await session.ops.deadLetters(Number.MAX_SAFE_INTEGER), seqs, options.all ?? false);
    const done: Array<Record<string, unknown>> = [];
    for (const d of chosen) {
      if (action === 'retry') {
        const newSeq = await session.ops.retryDeadLetter(d);
        done.push({ seq: d.seq, action: 'retried', subject: d.record.subject, newSeq });
      } else {
        await session.ops.dropDeadLetter(d);
        done.push({ seq: d.seq, action: 'dropped', subject: d.record.subject });
      }
    }
    out.data(done);
    out.table(done);
  } finally {
    await session.close();
  }
}
