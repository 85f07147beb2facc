import { DeliverPolicy, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { decodeEvent, isEventType, keyFilter, typeFilter } from '@idm/contracts';
import { usage } from '../cli-error.js';
import { parse } from '../command.js';
import { openSession } from '../nats-session.js';
import { resolveEventType } from './publish.command.js';

/** A filter argument → a subject filter: an event type or name, `user:<id>`, or a raw subject pattern. */
export function tailFilter(arg: string | undefined): string | undefined {
  if (!arg) return undefined;
  if (arg.startsWith('user:')) return keyFilter(arg.slice(5));
  if (arg.startsWith('idm.') && !isEventType(arg)) return arg;
  return typeFilter(resolveEventType(arg));
}

/**
 * `idm tail [filter] [--since TIME | --all] [--limit N]`: prints events as they are stored (new
 * ones by default), with an ordered consumer: nothing is acked, nothing left on the server.
 */
export async function tailCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals, out, server } = parse(argv, { since: { type: 'string' }, all: { type: 'boolean' }, limit: { type: 'string' } });
  const filter = tailFilter(positionals[0]);
  let since: Date | undefined;
  if (values.since !== undefined) {
    since = new Date(values.since);
    if (Number.isNaN(since.getTime())) throw usage(`--since must be an ISO time, got ${JSON.stringify(values.since)}`);
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw usage('--limit must be a positive integer');
  const session = await openSession(server);
  const options: Partial<OrderedConsumerOptions> = since
    ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() }
    : { deliver_policy: values.all ? DeliverPolicy.All : DeliverPolicy.New };
  // A single subject (not an array): nats-server 2.9 knows only one filter per consumer.
  if (filter) options.filter_subjects = filter;
  const consumer = await session.js.consumers.get(session.stream, options);
  const messages = await consumer.consume();
  const stop = (): void => void messages.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let count = 0;
  try {
    for await (const msg of messages) {
      let line: string;
      try {
        const e = decodeEvent(msg.data);
        if (out.json) line = JSON.stringify({ seq: msg.seq, event: e });
        else line = `${out.style('dim', String(msg.seq).padStart(6))} ${out.style('dim', e.time)} ${out.style('cyan', e.type)} ${e.subject} ${JSON.stringify(e.data)}`;
      } catch (err) {
        line = out.json ? JSON.stringify({ seq: msg.seq, subject: msg.subject, error: (err as Error).message }) : `${msg.seq} ${msg.subject} ${out.style('red', `undecodable: ${(err as Error).message}`)}`;
      }
      process.stdout.write(line + '\n');
      count += 1;
      if (limit !== undefined && count >= limit) break;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await messages.close().catch(() => undefined);
    await session.close();
  }
  return 0;
}
