#!/usr/bin/env node
// Runs every compiled spec with Node's built-in test runner. Files are listed explicitly because
// Node 20's default discovery does not pick up `*.spec.js`. Extra arguments narrow the set:
//   node scripts/run-tests.mjs notifier        → only specs whose path contains "notifier"
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['dist/apps', 'dist/tests', 'dist/examples', ...readdirSync('libs').map((l) => join('libs', l, 'dist')), 'examples'];
const files = [];
function walk(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.spec\.js$/.test(name)) files.push(p);
  }
}
roots.forEach(walk);
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error('no spec files found — did the build run?');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=240000', ...selected.sort()], { stdio: 'inherit' });
process.exit(r.status ?? 1);
