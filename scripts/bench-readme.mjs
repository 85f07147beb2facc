#!/usr/bin/env node
// Regenerates the README's benchmark table from JSON reports written by
// `npm run bench -- --json <file>`:
//
//   node scripts/bench-readme.mjs bench/results/*.json       (npm run bench:readme)
//
// Rows of a bench found in a later file replace that bench's rows from earlier files, so one file
// per bench (or per run) can be kept and the table is always the latest figures of each bench.
// Only the block between the `<!-- bench-table:start -->` and `<!-- bench-table:end -->` markers
// is rewritten; `--check` exits 1 instead of writing when the README is out of date.
import { readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const check = args.includes('--check');
const files = args.filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  console.error('usage: node scripts/bench-readme.mjs [--check] <report.json>…');
  process.exit(2);
}

const byBench = new Map();
for (const file of files) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const fresh = new Map();
  for (const row of report.rows ?? []) {
    if (!fresh.has(row.bench)) fresh.set(row.bench, []);
    fresh.get(row.bench).push(row);
  }
  for (const [bench, rows] of fresh) byBench.set(bench, rows);
}

const int = (n) => Math.round(n).toLocaleString('en');
const cell = (s) => String(s).replaceAll('|', '\\|');
function comparedCell(row) {
  return row.vs ? `${(row.ratio * 100).toFixed(0)} % of ${row.vs.name} (${int(row.vs.rate)}/s)` : '';
}
function goalCell(row) {
  // The ratio is in the compared column already; other goals show what the row measured.
  return row.goals
    .map((g) => `${g.text}: ${g.met ? 'met' : '**missed**'}${g.text.includes("compared row's rate") ? '' : ` (${g.measured})`}`)
    .join('; ');
}

const lines = [
  '| bench | row | items | seconds | per second | compared (same run) | goal | load avg (1 min) / cores, date |',
  '|---|---|---:|---:|---:|---|---|---|',
];
for (const [bench, rows] of [...byBench].sort(([a], [b]) => a.localeCompare(b))) {
  for (const row of rows) {
    const figures = Object.entries(row.figures ?? {}).map(([k, v]) => `${k} ${v}`);
    const name = [row.name, ...figures].join('; ');
    lines.push(
      `| ${cell(bench)} | ${cell(name)} | ${int(row.items)} | ${row.seconds.toFixed(2)} | ${int(row.rate)} ${cell(row.unit)}/s | ${cell(comparedCell(row))} | ${cell(goalCell(row))} | ${row.machine.loadAverage[0]} / ${row.machine.cores}, ${row.machine.date.slice(0, 10)} |`,
    );
  }
}
const table = lines.join('\n');

const START = '<!-- bench-table:start -->';
const END = '<!-- bench-table:end -->';
const readme = readFileSync('README.md', 'utf8');
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) {
  console.error(`README.md has no ${START} … ${END} block`);
  process.exit(1);
}
const next = `${readme.slice(0, from + START.length)}\n${table}\n${readme.slice(to)}`;
if (check) {
  if (next !== readme) {
    console.error('README.md benchmark table is out of date: run npm run bench:readme');
    process.exit(1);
  }
} else {
  writeFileSync('README.md', next);
  console.log(`README.md: ${lines.length - 2} benchmark rows from ${files.join(', ')}`);
}
