#!/usr/bin/env node
// Runs every compiled benchmark (`dist/bench/**/*.bench.js`) one after the other, each in its own
// process so one bench's servers and heap cannot skew the next. Each bench prints its own table
// and says, in words, which goals it met or missed.
// Extra arguments narrow the set: `node scripts/run-bench.mjs notifier` → names containing "notifier".
// `--json <file>` also writes every row (bench, name, items, seconds, rate, ratio, the row it is
// compared with, goals met or not, machine facts at the time of the row) to <file>, so runs can be
// compared; `node scripts/bench-readme.mjs <file>…` turns such files into the README's table.
// Benchmarks are never part of `npm test`: timings belong here, not in assertions.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
let jsonFile;
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--json') jsonFile = args[++i];
  else if (args[i].startsWith('--json=')) jsonFile = args[i].slice('--json='.length);
  else filters.push(args[i]);
}
if (args.includes('--json') && !jsonFile) {
  console.error('--json needs a file name: npm run bench -- --json bench-results.json [bench names]');
  process.exit(2);
}

const root = 'dist/bench';
const files = [];
function walk(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.bench\.js$/.test(name)) files.push(p);
  }
}
walk(root);
const selected = (filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files).sort();
if (selected.length === 0) {
  console.error(`no benchmarks found in ${root}${filters.length ? ` matching ${filters.join(', ')}` : ''} — did the build run?`);
  process.exit(1);
}

const machine = () => ({
  cores: cpus().length,
  loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
  node: process.version,
  date: new Date().toISOString(),
});
// Each bench appends its rows (JSON lines) here as it measures them; see bench/bench-report.ts.
const rowsDir = jsonFile ? mkdtempSync(join(tmpdir(), 'idm-bench-rows-')) : undefined;
const rowsFile = rowsDir ? join(rowsDir, 'rows.jsonl') : undefined;
const started = machine();
const benches = [];
let failed = 0;
for (const file of selected) {
  console.log(`\n▶ ${file}`);
  const r = spawnSync(process.execPath, [file], {
    stdio: 'inherit',
    env: rowsFile ? { ...process.env, BENCH_JSON_ROWS: rowsFile } : process.env,
  });
  benches.push({ file, exit: r.status ?? String(r.signal) });
  if (r.status !== 0) {
    failed += 1;
    console.error(`✖ ${file} exited with ${r.status ?? r.signal}`);
  }
}
if (jsonFile) {
  const rows = existsSync(rowsFile)
    ? readFileSync(rowsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
  rmSync(rowsDir, { recursive: true, force: true });
  writeFileSync(jsonFile, `${JSON.stringify({ started, finished: machine(), benches, rows }, null, 2)}\n`);
  const missed = rows.filter((r) => r.met === false);
  console.log(`\n${rows.length} rows written to ${jsonFile}; ${missed.length} missed their goal${missed.length === 1 ? '' : 's'}`);
}
process.exit(failed ? 1 : 0);
