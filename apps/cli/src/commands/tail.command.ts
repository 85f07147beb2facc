import { tailFilters } from '@idm/operations';
import { Option, type Command } from 'commander';
import { connecting, isoTime, outputOf, positiveInteger, type ConnectingOptions } from '../command.js';
import { openSession } from '../nats-session.js';

/**
 * `idm tail [filter] [--since TIME | --all] [--limit N]`: prints events as they are stored (new
 * ones by default), with an ordered consumer: nothing is acked, nothing left on the server.
 */
export function tailCommand(program: Command): void {
  connecting(
    program
      .command('tail')
      .description('print events as they are stored (new ones unless --since or --all); Ctrl-C stops')
      .argument('[filter]', 'an event type (user-added), user:<id>, or a NATS subject filter (idm.user.>)')
      .addOption(
        new Option('--since <time>', 'start at the first event stored at or after this ISO-8601 time').argParser(isoTime).conflicts('all'),
      )
      .option('--all', 'start at the first event in the stream')
      .option('--limit <n>', 'stop after printing n events', positiveInteger),
  ).action((filter: string | undefined, options: TailOptions) => follow(filter, options));
}

interface TailOptions extends ConnectingOptions {
  readonly since?: Date;
  readonly all?: boolean;
  readonly limit?: number;
}

async function follow(filter: string | undefined, options: TailOptions): Promise<void> {
  const out = outputOf(options);
  const { since, limit } = options;
  const filters = tailFilters(filter);
  const session = await openSession(options);
  const tail = await session.ops.tail(filters, { ...(since ? { since } : {}), all: options.all ?? false });
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
}
