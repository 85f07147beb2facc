#!/usr/bin/env node
// Runs every compiled benchmark (`dist/bench/**/*.bench.js`) one after the other, each in its own
// process so one bench's servers and heap cannot skew the next. Each bench prints its own table.
// Extra arguments narrow the set: `node scripts/run-bench.mjs notifier` → names containing "notifier".
// Benchmarks are never part of `npm test`: timings belong here, not in assertions.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
const filters = process.argv.slice(2);
const selected = (filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files).sort();
if (selected.length === 0) {
  console.error(`no benchmarks found in ${root}${filters.length ? ` matching ${filters.join(', ')}` : ''} — did the build run?`);
  process.exit(1);
}
let failed = 0;
for (const file of selected) {
  console.log(`\n▶ ${file}`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed += 1;
    console.error(`✖ ${file} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
