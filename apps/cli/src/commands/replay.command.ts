import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CliError, usage } from '../cli-error.js';
import { parse } from '../command.js';

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
export async function replayCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals, out, server } = parse(argv, {
    'from-seq': { type: 'string' },
    since: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'batch-size': { type: 'string' },
    schema: { type: 'string' },
    force: { type: 'boolean' },
  });
  const app = positionals[0];
  if (app === 'scheduler') throw usage('the scheduler keeps no tables: nothing to replay');
  if (!app || !(REPLAYABLE as readonly string[]).includes(app))
    throw usage(`usage: idm replay <${REPLAYABLE.join('|')}> [--from-seq N | --since TIME] [--dry-run] [--force]`);
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', app, 'replay.js');
  if (!existsSync(script)) throw new CliError(`${script} not found: build the app first (npx tsc -b apps/${app})`, 'IDM_CLI_FAILED');
  const args: string[] = [];
  if (values['from-seq'] !== undefined) args.push('--from-seq', values['from-seq']);
  if (values.since !== undefined) args.push('--since', values.since);
  if (values['dry-run']) args.push('--dry-run');
  if (values['batch-size'] !== undefined) args.push('--batch-size', values['batch-size']);
  if (values.schema !== undefined) args.push('--schema', values.schema);
  if (values.force) args.push('--force');
  const child = spawn(process.execPath, [script, ...args], {
    env: server ? { ...process.env, NATS_URL: server } : process.env,
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
  return 0;
}
