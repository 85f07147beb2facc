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
//                                                 `npm run test:faults` does. Prints a table.
//   node scripts/run-tests.mjs --with-faults     → every tier, then the fault suite (`.ci/run`).
//
// Files run in phases: the ordinary specs two at a time; then the Active Directory specs one at a
// time (Samba's ports are fixed, so they share a machine-wide lock: run side by side they would
// only wait for each other against the per-file timeout); then the faults, one at a time. The
// last line adds up every phase: `total: N passed, N failed, N skipped`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const filters = args.filter((a) => !a.startsWith('--'));
const unitOnly = flags.has('--unit');
const faultsOnly = flags.has('--faults');
const withFaults = faultsOnly || flags.has('--with-faults');

const roots = ['dist/apps', 'dist/tests', 'dist/examples', ...readdirSync('libs').map((l) => join('libs', l, 'dist')), 'examples'];
function find(pattern) {
  const files = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules') continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (pattern.test(name)) files.push(p);
    }
  };
  roots.forEach(walk);
  return (filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files).sort();
}

/** Specs that start the Samba AD domain controller (fixed ports, one machine-wide lock). */
const needsSambaAd = (file) => /samba-ad|active-directory|(^|[.-])ad[.-]/.test(file.split('/').pop());

const specs = faultsOnly ? [] : find(unitOnly ? /(?<![-.](int|e2e))\.spec\.js$/ : /\.(spec|int-spec|e2e-spec)\.js$/);
const phases = [
  { name: 'specs', files: specs.filter((f) => !needsSambaAd(f)), concurrency: process.env.TEST_CONCURRENCY ?? '2' },
  { name: 'Active Directory specs (one at a time)', files: specs.filter(needsSambaAd), concurrency: '1' },
  // Fault tests kill and restart whole deployments: one file at a time, so their figures are not skewed by each other.
  { name: 'fault suite (one at a time)', files: withFaults ? find(/\.fault-spec\.js$/) : [], concurrency: '1', faults: true },
].filter((phase) => phase.files.length > 0);
if (phases.length === 0) {
  console.error('no spec files found — did the build run?');
  process.exit(1);
}

const total = { pass: 0, fail: 0, skipped: 0, cancelled: 0 };
let failedRun = false;
for (const phase of phases) {
  if (phases.length > 1) console.log(`\n# == ${phase.name}: ${phase.files.length} files`);
  const reportDir = phase.faults ? mkdtempSync(join(tmpdir(), 'idm-faults-')) : undefined;
  const env = reportDir ? { ...process.env, IDM_FAULT_REPORT: join(reportDir, 'faults.jsonl') } : process.env;
  const { code, counts } = await runPhase(phase, env);
  for (const key of Object.keys(total)) total[key] += counts[key];
  if (code !== 0) failedRun = true;
  if (reportDir) {
    printFaultTable(env.IDM_FAULT_REPORT);
    rmSync(reportDir, { recursive: true, force: true });
  }
}
if (phases.length > 1) console.log(`\ntotal: ${total.pass} passed, ${total.fail + total.cancelled} failed, ${total.skipped} skipped`);
process.exit(failedRun ? 1 : 0);

/** Runs one phase's files with the TAP reporter, passing its output through and counting its summary. */
function runPhase(phase, env) {
  const counts = { pass: 0, fail: 0, skipped: 0, cancelled: 0 };
  const child = spawn(
    process.execPath,
    ['--test', '--test-reporter=tap', `--test-concurrency=${phase.concurrency}`, '--test-timeout=240000', ...phase.files],
    {
      stdio: ['inherit', 'pipe', 'inherit'],
      env,
    },
  );
  let rest = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      // The run's own summary is unindented; subtests' are indented.
      const m = /^# (pass|fail|skipped|cancelled) (\d+)$/.exec(line);
      if (m) counts[m[1]] = Number(m[2]);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, counts })));
}

/** The fault suite's summary: one row per injected fault, as the tests recorded them. */
function printFaultTable(file) {
  const rows = existsSync(file)
    ? readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
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
