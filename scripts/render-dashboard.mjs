#!/usr/bin/env node
// Renders the Grafana dashboard (deploy/monitoring/grafana-dashboard.json) as a static page and
// screenshots it to docs/images/dashboard.png — for the README, where there is no Grafana. After
// `npm run build`: `node scripts/render-dashboard.mjs [seconds]`.
//
// It is NOT Grafana and no Prometheus: it starts the dev stack (scripts/dev-stack.mjs, free ports,
// a temporary data folder), drives some work through it with the idm CLI (users, password
// changes), scrapes every app's /metrics every few seconds, and evaluates each panel's PromQL
// with a small evaluator of the subset the dashboard uses (sum/max/min by, rate, increase,
// histogram_quantile over the scrapes; label matchers are ignored: one namespace here). Windows
// longer than the run ([5m], [1h]) cover what was scraped. The page is drawn in Debian's chromium
// through playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 60);
const dashboard = JSON.parse(readFileSync(join(root, 'deploy/monitoring/grafana-dashboard.json'), 'utf8'));

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---- the stack -------------------------------------------------------------------------------
const dataDir = join(tmpdir(), `idm-dashboard-${process.pid}`);
const ports = {};
for (const k of [
  'NATS',
  'SMTP',
  'MAIL_HTTP',
  'SCHEDULER_HEALTH',
  'NOTIFIER_HEALTH',
  'PASSWORD_SYNC_HEALTH',
  'DIRECTORY_SOURCE_HEALTH',
  'CONSOLE',
])
  ports[k] = await freePort();
const env = {
  ...process.env,
  DEV_DATA_DIR: dataDir,
  EMAIL_RETRY_CRON: '*/5 * * * * *',
  SOURCE_POLLING_INTERVAL_SECONDS: '2',
  NO_COLOR: '1',
};
for (const [k, v] of Object.entries(ports)) env[`DEV_${k}_PORT`] = String(v);
delete env.NATS_URL;
const stack = spawn(process.execPath, [join(root, 'scripts/dev-stack.mjs')], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
});
let output = '';
stack.stdout.on('data', (d) => (output += d));
stack.stderr.on('data', (d) => (output += d));
const stop = () => {
  if (stack.exitCode === null) process.kill(stack.pid, 'SIGINT');
};
process.on('exit', stop);
for (let i = 0; !output.includes('dev stack ready'); i++) {
  if (stack.exitCode !== null || i > 1200) throw new Error(`the dev stack did not start:\n${output}`);
  await new Promise((r) => setTimeout(r, 100));
}
const targets = Object.entries({
  scheduler: ports.SCHEDULER_HEALTH,
  notifier: ports.NOTIFIER_HEALTH,
  'password-sync': ports.PASSWORD_SYNC_HEALTH,
  'directory-source': ports.DIRECTORY_SOURCE_HEALTH,
}).filter(([service]) => output.includes(`${service} started`));

const nats = `nats://127.0.0.1:${ports.NATS}`;
const idm = (args, role, input) =>
  spawnSync(
    process.execPath,
    [join(root, 'dist/apps/cli/main.js'), ...args, '--server', nats, '--env-file', join(dataDir, 'nats-auth', `${role}.env`)],
    {
      input,
      encoding: 'utf8',
    },
  );

// ---- scraping and a small PromQL evaluator ---------------------------------------------------
/** One scrape: time, and every sample as { name, labels, value }. */
const scrapes = [];
function parseMetrics(text, service) {
  const samples = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = { service };
    for (const l of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}
async function scrape() {
  const samples = [];
  for (const [service, port] of targets) {
    let up = 0;
    try {
      samples.push(...parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), service));
      up = 1;
    } catch {
      /* down: up 0 */
    }
    samples.push({ name: 'up', labels: { service }, value: up });
  }
  scrapes.push({ t: Date.now() / 1000, samples });
}

const key = (labels) => JSON.stringify(Object.entries(labels).sort());
/** Evaluates `expr` at scrape index `at`: a list of { labels, value }. */
function evaluate(expr, at) {
  expr = expr.trim();
  let m;
  if ((m = /^(sum|max|min)(?:\s+by\s*\(([^)]*)\))?\s*\((.*)\)$/s.exec(expr))) {
    const by = (m[2] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const groups = new Map();
    for (const s of evaluate(m[3], at)) {
      const labels = Object.fromEntries(by.map((l) => [l, s.labels[l] ?? '']));
      const k = key(labels);
      const g = groups.get(k);
      const combine = { sum: (a, b) => a + b, max: Math.max, min: Math.min }[m[1]];
      groups.set(k, g ? { labels, value: combine(g.value, s.value) } : { labels, value: s.value });
    }
    return [...groups.values()];
  }
  if ((m = /^(rate|increase)\((\w+)(?:\{[^}]*\})?\[[^\]]+\]\)$/.exec(expr))) {
    const first = Math.max(0, at - 10); // a window of the last ten scrapes
    const before = new Map(scrapes[first].samples.filter((s) => s.name === m[2]).map((s) => [key(s.labels), s.value]));
    const span = scrapes[at].t - scrapes[first].t;
    return scrapes[at].samples
      .filter((s) => s.name === m[2])
      .map((s) => {
        const delta = Math.max(0, s.value - (before.get(key(s.labels)) ?? 0));
        return { labels: s.labels, value: m[1] === 'rate' ? (span > 0 ? delta / span : 0) : delta };
      });
  }
  if ((m = /^histogram_quantile\(([\d.]+),\s*(.*)\)$/s.exec(expr))) {
    const q = Number(m[1]);
    const byGroup = new Map();
    for (const s of evaluate(m[2], at)) {
      const { le, ...rest } = s.labels;
      const k = key(rest);
      if (!byGroup.has(k)) byGroup.set(k, { labels: rest, buckets: [] });
      byGroup.get(k).buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: s.value });
    }
    return [...byGroup.values()].flatMap(({ labels, buckets }) => {
      buckets.sort((a, b) => a.le - b.le);
      const total = buckets.at(-1)?.count ?? 0;
      if (total === 0) return [];
      const rank = q * total;
      let prev = { le: 0, count: 0 };
      for (const b of buckets) {
        if (b.count >= rank) {
          const value =
            b.le === Infinity ? prev.le : prev.le + ((b.le - prev.le) * (rank - prev.count)) / Math.max(1e-12, b.count - prev.count);
          return [{ labels, value }];
        }
        prev = b;
      }
      return [];
    });
  }
  if ((m = /^(\w+)(?:\{[^}]*\})?$/.exec(expr)))
    return scrapes[at].samples.filter((s) => s.name === m[1]).map((s) => ({ labels: s.labels, value: s.value }));
  throw new Error(`the evaluator does not read ${expr}`);
}

// ---- drive some work while scraping ----------------------------------------------------------
const end = Date.now() + seconds * 1000;
let n = 0;
while (Date.now() < end) {
  await scrape();
  if (n % 2 === 0) {
    const user = `user-${n}`;
    idm(['publish', 'user-added', '--user-id', user, '--email', `${user}@example.com`, '--display-name', `User ${n}`], 'directory-source');
    if (n % 4 === 0) idm(['password', 'set', user], 'password-writer', `Passw0rd-${n}-long\n`);
    if (n % 6 === 0) idm(['password', 'set', `nobody-${n}`], 'password-writer', `Passw0rd-${n}-long\n`);
  }
  n += 1;
  await new Promise((r) => setTimeout(r, 2000));
}
await scrape();
stop();

// ---- the page --------------------------------------------------------------------------------
const COLOURS = ['#73bf69', '#f2cc0c', '#5794f2', '#ff780a', '#f2495c', '#b877d9', '#8ab8ff', '#fade2a'];
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const fmt = (v) =>
  Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : Math.abs(v) >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : Number(v.toPrecision(3)).toString();
function chart(panel) {
  const series = new Map();
  for (const [ti, target] of (panel.targets ?? []).entries()) {
    for (let at = 0; at < scrapes.length; at++) {
      for (const s of evaluate(target.expr.replace(/\{[^}]*\}/g, ''), at)) {
        const legend =
          (target.legendFormat ?? '').replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l) => s.labels[l] ?? '') ||
          Object.values(s.labels).join(' ') ||
          `query ${ti + 1}`;
        if (!series.has(legend)) series.set(legend, []);
        series.get(legend).push([scrapes[at].t, s.value]);
      }
    }
  }
  const W = 100 * panel.gridPos.w - 24;
  const H = 28 * panel.gridPos.h - 64;
  const all = [...series.values()].flat();
  const t0 = scrapes[0].t;
  const t1 = scrapes.at(-1).t;
  const max = Math.max(1e-9, ...all.map(([, v]) => v));
  const x = (t) => 52 + ((t - t0) / Math.max(1, t1 - t0)) * (W - 60);
  const y = (v) => 8 + (1 - v / max) * (H - 24);
  const lines = [...series.entries()]
    .map(
      ([, pts], i) =>
        `<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2" points="${pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`,
    )
    .join('');
  const grid = [0, 0.5, 1]
    .map(
      (f) =>
        `<line x1="52" x2="${W - 8}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#2c3235"/><text x="46" y="${y(max * f) + 4}" text-anchor="end">${fmt(max * f)}</text>`,
    )
    .join('');
  const legend = [...series.entries()]
    .map(
      ([name, pts], i) => `<span><i style="background:${COLOURS[i % COLOURS.length]}"></i>${esc(name)} <b>${fmt(pts.at(-1)[1])}</b></span>`,
    )
    .join('');
  const body =
    series.size === 0
      ? `<div class="empty">no data</div>`
      : `<svg width="${W}" height="${H}">${grid}${lines}</svg><div class="legend">${legend}</div>`;
  return `<div class="panel" style="grid-column:${panel.gridPos.x + 1} / span ${panel.gridPos.w};grid-row:${panel.gridPos.y + 1} / span ${panel.gridPos.h}"><h3>${esc(panel.title)}</h3>${body}</div>`;
}
const panels = dashboard.panels
  .map((p) =>
    p.type === 'row' ? `<div class="row" style="grid-column:1 / span 24;grid-row:${p.gridPos.y + 1}">${esc(p.title)}</div>` : chart(p),
  )
  .join('\n');
const minutes = ((scrapes.at(-1).t - scrapes[0].t) / 60).toFixed(1);
const html = `<!doctype html><meta charset="utf-8"><style>
body{margin:0;background:#111217;color:#ccccdc;font:12px Inter,Helvetica,Arial,sans-serif}
header{padding:10px 16px;font-size:16px;color:#fff} header small{color:#8e8e8e;font-size:11px;margin-left:12px}
.grid{display:grid;grid-template-columns:repeat(24,100px);grid-auto-rows:28px;gap:0;padding:0 8px}
.panel{background:#181b1f;border:1px solid #2c3235;border-radius:3px;margin:4px;padding:6px 8px;overflow:hidden}
.panel h3{margin:0 0 4px;font-size:12px;font-weight:500;color:#fff}
.row{font-size:14px;color:#fff;padding:6px 4px}
svg text{fill:#8e8e8e;font-size:10px}.legend span{margin-right:10px;white-space:nowrap}.legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
.empty{color:#8e8e8e;padding:40px;text-align:center}
</style><header>${esc(dashboard.title)}<small>static rendering of deploy/monitoring/grafana-dashboard.json, not Grafana: each panel's query evaluated over ${scrapes.length} scrapes (${minutes} min) of a dev stack's /metrics</small></header>
<div class="grid">${panels}</div>`;
mkdirSync(join(root, 'docs/images'), { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
try {
  const page = await browser.newPage({ viewport: { width: 2420, height: 1400 } });
  await page.setContent(html);
  await page.screenshot({ path: join(root, 'docs/images/dashboard.png'), fullPage: true });
} finally {
  await browser.close();
}
writeFileSync(join(dataDir, 'dashboard.html'), html);
process.stdout.write(
  `docs/images/dashboard.png: ${dashboard.panels.length} panels, ${scrapes.length} scrapes over ${minutes} min (page: ${join(dataDir, 'dashboard.html')})\n`,
);
