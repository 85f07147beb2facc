import { tailFilters } from '@idm/operations';
import { usage } from '../cli-error.js';
import { parse } from '../command.js';
import { openSession } from '../nats-session.js';

/**
 * `idm tail [filter] [--since TIME | --all] [--limit N]`: prints events as they are stored (new
 * ones by default), with an ordered consumer: nothing is acked, nothing left on the server.
 */
export async function tailCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals, out, server } = parse(argv, {
    since: { type: 'string' },
    all: { type: 'boolean' },
    limit: { type: 'string' },
  });
  const filters = tailFilters(positionals[0]);
  let since: Date | undefined;
  if (values.since !== undefined) {
    since = new Date(values.since);
    if (Number.isNaN(since.getTime())) throw usage(`--since must be an ISO time, got ${JSON.stringify(values.since)}`);
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw usage('--limit must be a positive integer');
  const session = await openSession(server);
  const tail = await session.ops.tail(filters, { ...(since ? { since } : {}), all: values.all ?? false });
  const stop = (): void => void tail.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let count = 0;
  try {
    for await (const item of tail) {
      let line: string;
      if ('event' in item) {
        const e = item.event;
        if (out.json) line = JSON.stringify({ seq: item.seq, event: e });
        else
          line = `${out.style('dim', String(item.seq).padStart(6))} ${out.style('dim', e.time)} ${out.style('cyan', e.type)} ${e.subject} ${JSON.stringify(e.data)}`;
      } else {
        line = out.json ? JSON.stringify(item) : `${item.seq} ${item.subject} ${out.style('red', `undecodable: ${item.error}`)}`;
      }
      process.stdout.write(line + '\n');
      count += 1;
      if (limit !== undefined && count >= limit) break;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await tail.stop();
    await session.close();
  }
  return 0;
}
