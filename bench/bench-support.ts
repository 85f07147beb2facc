import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@idm/testing';

/** One measured row of a benchmark table. */
export interface BenchRow {
  readonly name: string;
  readonly items: number;
  readonly seconds: number;
  readonly note?: string;
}

/** Prints rows as a Markdown table with items/s and, when given, the ratio to a baseline row. */
export function printTable(title: string, rows: readonly BenchRow[], baseline?: BenchRow, unit = 'emails'): void {
  const rate = (r: BenchRow) => r.items / r.seconds;
  const lines = [
    `| ${'row'.padEnd(52)} | ${unit.padStart(7)} | seconds | ${`${unit}/s`.padStart(9)} | vs baseline | note`,
    `|${'-'.repeat(54)}|---------|---------|-----------|-------------|-----`,
  ];
  for (const r of rows) {
    const ratio = baseline && r !== baseline ? `${((rate(r) / rate(baseline)) * 100).toFixed(0)} %` : baseline === r ? 'baseline' : '';
    lines.push(
      `| ${r.name.padEnd(52)} | ${String(r.items).padStart(7)} | ${r.seconds.toFixed(2).padStart(7)} | ${rate(r).toFixed(0).padStart(9)} | ${ratio.padStart(11)} | ${r.note ?? ''}`,
    );
  }
  console.log(`\n${title}\n${lines.join('\n')}\n`);
}

/** A built app (`dist/apps/<app>/main.js`) started as its own process. */
export interface BenchApp {
  log(): string;
  stop(): Promise<void>;
}

/** Starts an app with exactly `env` (plus PATH/HOME) and resolves once it logged its `ready:` line. */
export async function startBenchApp(app: string, env: Record<string, string>, logDir: string): Promise<BenchApp> {
  const logFile = join(logDir, `${app}.log`);
  const fd = openSync(logFile, 'a');
  const main = fileURLToPath(new URL(`../apps/${app}/main.js`, import.meta.url));
  // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of the app (open it in Chrome DevTools) to find the bottleneck.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, main], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const log = () => readFileSync(logFile, 'utf8');
  await waitFor(
    () => {
      if (exited) throw new Error(`${app} exited during start-up:\n${log().slice(-2000)}`);
      return log().includes('ready:');
    },
    { timeoutMs: 60_000, message: `${app} ready` },
  );
  return {
    log,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
