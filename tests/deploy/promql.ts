import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Registry } from 'prom-client';
import { REPO_ROOT } from './repo-root.js';

/** PromQL words that look like metric names. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: identifiers that are not functions (followed by
 * `(`), keywords, label names (inside `{…}`, `by (…)`, `on (…)`, …) or inside strings and ranges.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] !== undefined || KEYWORDS.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return [...names];
}

/** Names Prometheus itself adds to every scrape (not exported by an app). */
export const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** Every series name a registry exposes: histogram and summary metrics expand to their sample names. */
export function exportedSeries(registry: Registry): Set<string> {
  const out = new Set<string>();
  for (const m of registry.getMetricsAsArray()) {
    const { name, type } = m as unknown as { name: string; type: string };
    out.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) out.add(name + s);
  }
  return out;
}

/** One PromQL expression we ship, and where. */
export interface ShippedExpr {
  readonly where: string;
  readonly expr: string;
}

/** The alert rules of deploy/monitoring/prometheusrule.yaml. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** The PrometheusRule's alerts. */
export function shippedAlerts(): AlertRule[] {
  const rule = parse(readFileSync(join(REPO_ROOT, 'deploy/monitoring/prometheusrule.yaml'), 'utf8')) as { spec: { groups: Array<{ rules: AlertRule[] }> } };
  return rule.spec.groups.flatMap((g) => g.rules);
}

/** The Grafana dashboard's panels. */
export interface DashboardPanel {
  readonly type: string;
  readonly title: string;
  readonly targets?: ReadonlyArray<{ expr: string }>;
}

/** The Grafana dashboard JSON. */
export function shippedDashboard(): { uid: string; title: string; panels: DashboardPanel[]; templating: { list: Array<{ name: string; type: string }> } } {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/monitoring/grafana-dashboard.json'), 'utf8')) as ReturnType<typeof shippedDashboard>;
}

/** Every PromQL expression of the alerts and the dashboard panels. */
export function shippedExpressions(): ShippedExpr[] {
  return [
    ...shippedAlerts().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
    ...shippedDashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ];
}
