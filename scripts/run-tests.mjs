#!/usr/bin/env node
// Runs compiled specs with Node's built-in test runner. Files are listed explicitly because
// Node 20's default discovery does not pick up `*.spec.js`.
//
// The tier is in the file name:
//   *.spec.ts      pure: no server, no child process        (npm run test:unit)
//   *.int-spec.ts  starts real servers (nats-server, SMTP, slapd, Samba AD, Postgres)
//   *.e2e-spec.ts  starts app processes
// `npm test` runs every tier. Arguments narrow the set:
//   node scripts/run-tests.mjs --unit            → only the pure tier
//   node scripts/run-tests.mjs notifier          → only specs whose path contains "notifier"
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => a !== '--unit');
const pattern = unitOnly ? /(?<![-.](int|e2e))\.spec\.js$/ : /\.(spec|int-spec|e2e-spec)\.js$/;

const roots = ['dist/apps', 'dist/tests', 'dist/examples', ...readdirSync('libs').map((l) => join('libs', l, 'dist')), 'examples'];
const files = [];
function walk(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (pattern.test(name)) files.push(p);
  }
}
roots.forEach(walk);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (selected.length === 0) {
  console.error('no spec files found — did the build run?');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=240000', ...selected.sort()], { stdio: 'inherit' });
process.exit(r.status ?? 1);
