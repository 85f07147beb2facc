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
//   node scripts/run-tests.mjs --faults          → only the fault suite (*.fault-spec.ts: kill -9 and
//                                                 restarts of real processes); `npm test` never runs it,
//                                                 `npm run test:faults` and `.ci/run` do. Prints a table.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const faults = args.includes('--faults');
const filters = args.filter((a) => a !== '--unit' && a !== '--faults');
const pattern = faults ? /\.fault-spec\.js$/ : unitOnly ? /(?<![-.](int|e2e))\.spec\.js$/ : /\.(spec|int-spec|e2e-spec)\.js$/;

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
// Fault tests kill and restart whole deployments: one file at a time, so their figures are not skewed by each other.
const concurrency = process.env.TEST_CONCURRENCY ?? (faults ? '1' : '2');
const reportDir = faults ? mkdtempSync(join(tmpdir(), 'idm-faults-')) : undefined;
const env = reportDir ? { ...process.env, IDM_FAULT_REPORT: join(reportDir, 'faults.jsonl') } : process.env;
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=240000', ...selected.sort()], { stdio: 'inherit', env });
if (reportDir) {
  printFaultTable(env.IDM_FAULT_REPORT);
  rmSync(reportDir, { recursive: true, force: true });
}
process.exit(r.status ?? 1);

/** The fault suite's summary: one row per injected fault, as the tests recorded them. */
function printFaultTable(file) {
  const rows = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const columns = [
    ['fault', 'fault'],
    ['work in flight', 'inFlight'],
    ['lost', 'lost'],
    ['duplicated', 'duplicated'],
    ['time to recover', 'recovery'],
  ];
  const cells = rows.map((row) => columns.map(([, key]) => String(row[key] ?? '')));
  const widths = columns.map(([title], i) => Math.max(title.length, ...cells.map((c) => c[i].length)));
  const line = (values) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nfault suite (${rows.length} faults)`);
  console.log(line(columns.map(([title]) => title)));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}
