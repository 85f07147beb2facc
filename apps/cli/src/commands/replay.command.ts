import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CliError, usage } from '../cli-error.js';
import { Option, type Command } from 'commander';
import { connecting, connectionEnv, isoTime, outputOf, positiveInteger, type ConnectingOptions } from '../command.js';

/** Apps with projections to rebuild. The scheduler keeps no tables (its state is the last tick on the stream). */
const REPLAYABLE = ['notifier', 'password-sync'] as const;

interface Line {
  readonly kind: 'start' | 'progress' | 'summary' | 'error';
  readonly [key: string]: unknown;
}

function bar(fraction: number, width = 30): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

function eta(pending: number, perSecond: number): string {
  if (perSecond <= 0) return '?';
  const s = Math.ceil(pending / perSecond);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * `idm replay <app> [--from-seq N | --since TIME] [--dry-run] [--force]`: runs the app's own
 * replay entry point (`dist/apps/<app>/replay.js`, which holds the app's evolve functions and owns
 * its tables) with the same environment (so the same `DATABASE_URL`, `DATA_DIR` and
 * `DATABASE_SCHEMA` as the app), draws its JSON progress lines as a bar on stderr (events/s, ETA),
 * and prints the summary. The entry point refuses while the app answers its status subject;
 * `--force` replays anyway.
 */
export function replayCommand(program: Command): void {
  connecting(
    program
      .command('replay')
      .description(
        "rebuild an app's tables from the event log with the app's own replay entry point (same DATABASE_URL, DATA_DIR, DATABASE_SCHEMA as the app)",
      )
      .argument('<app>', `the app whose projections to rebuild: ${REPLAYABLE.join(' or ')}`)
      .addOption(new Option('--from-seq <n>', 'start at this stream sequence').argParser(positiveInteger).conflicts('since'))
      .option('--since <time>', 'start at the first event stored at or after this ISO-8601 time', isoTime)
      .option('--dry-run', 'read and count what would be applied; nothing is written')
      .option('--batch-size <n>', 'events per transaction', positiveInteger)
      .option('--schema <name>', 'the Postgres schema to write (default DATABASE_SCHEMA, as the app)')
      .option('--force', 'replay even while the app answers its status subject (it should be stopped)'),
  ).action((app: string, options: ReplayOptions) => replay(app, options));
}

interface ReplayOptions extends ConnectingOptions {
  readonly fromSeq?: number;
  readonly since?: Date;
  readonly dryRun?: boolean;
  readonly batchSize?: number;
  readonly schema?: string;
  readonly force?: boolean;
}

async function replay(app: string, options: ReplayOptions): Promise<void> {
  const out = outputOf(options);
  if (app === 'scheduler') throw usage('the scheduler keeps no tables: nothing to replay');
  if (!(REPLAYABLE as readonly string[]).includes(app))
    throw usage(`replay <app>: expected ${REPLAYABLE.join(' or ')}, got ${JSON.stringify(app)}`);
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', app, 'replay.js');
  if (!existsSync(script)) throw new CliError(`${script} not found: build the app first (npx tsc -b apps/${app})`, 'IDM_CLI_FAILED');
  const args: string[] = [];
  if (options.fromSeq !== undefined) args.push('--from-seq', String(options.fromSeq));
  if (options.since !== undefined) args.push('--since', options.since.toISOString());
  if (options.dryRun) args.push('--dry-run');
  if (options.batchSize !== undefined) args.push('--batch-size', String(options.batchSize));
  if (options.schema !== undefined) args.push('--schema', options.schema);
  if (options.force) args.push('--force');
  const child = spawn(process.execPath, [script, ...args], {
    env: connectionEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const tty = process.stderr.isTTY === true && !out.json;
  let summary: Line | undefined;
  let failure: string | undefined;
  for await (const raw of createInterface({ input: child.stdout })) {
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue; // a stray log line of a library
    }
    if (line.kind === 'progress') {
      const read = Number(line.read);
      const pending = Number(line.pending);
      const perSecond = Number(line.eventsPerSecond);
      const text = `${bar(read / Math.max(1, read + pending))} ${read}/${read + pending} events  ${perSecond} ev/s  ETA ${eta(pending, perSecond)}`;
      if (tty) process.stderr.write(`\r${text}`);
    } else if (line.kind === 'summary') summary = line;
    else if (line.kind === 'error') failure = String(line.message);
  }
  const code = await new Promise<number>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('close', (c) => resolve(c ?? 1));
  });
  if (tty) process.stderr.write('\n');
  if (failure || code !== 0 || !summary)
    throw new CliError(`replay of ${app} failed: ${failure ?? (stderr.join('').trim() || `exit code ${code}`)}`, 'IDM_CLI_FAILED');
  out.data(summary);
  out.heading(`replay of ${app}${summary.dryRun ? ' (dry run: nothing written)' : ''}`);
  out.line(
    `  ${String(summary.read)} events read up to seq ${String(summary.lastSeq)}, ${String(summary.applied)} applied, ${String(summary.undecodable)} undecodable`,
  );
  out.line(`  ${String(summary.elapsedMs)} ms, ${String(summary.eventsPerSecond)} events/s`);
  out.table(Object.entries(summary.rows as Record<string, number>).map(([table, rows]) => ({ table, rows })));
}
