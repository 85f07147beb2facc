import { HarnessError } from './harness-errors.js';

/**
 * The value of one series in a Prometheus text exposition (`registry.metrics()`, a `/metrics`
 * body): `series` is the name with its labels exactly as exposed, e.g.
 * `idm_pending_emails{app="notifier"}`. `+Inf`/`-Inf`/`NaN` are read as numbers. Throws when the
 * series is not there, so a renamed metric fails the test that reads it.
 */
export function metricValue(exposition: string, series: string): number {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new HarnessError('IDM_HARNESS_NO_SERIES', `series ${series} not in the exposition`);
  const raw = line
    .slice(series.length + 1)
    .trim()
    .split(' ')[0]!;
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(raw);
}
