import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { NATS_CONNECTION } from '@idm/messaging';
import { createAppMetrics, type AppMetrics } from '@idm/observability';
import { startNatsServer, type NatsServerHandle } from '@idm/testing';
import { exportedSeries, metricNames, PROMETHEUS_SERIES, shippedExpressions } from './promql.js';
import { REPO_ROOT } from './repo-root.js';

type Observe = (app: unknown, ...rest: unknown[]) => Promise<unknown>;

/** Apps are not packages: their compiled observability modules, by path (specs run after the build). */
async function appModule(path: string): Promise<Record<string, unknown>> {
  return (await import(join(REPO_ROOT, 'dist/apps', path))) as Record<string, unknown>;
}

/**
 * Each app's registry, built by the app's own observability code as main.ts calls it (the
 * metrics are registered when the function runs; the Nest providers it reads at scrape time are
 * stand-ins, never scraped here). NATS is real: observe* ask JetStream for a manager.
 */
async function appRegistries(nc: NatsConnection): Promise<Record<string, AppMetrics>> {
  // Providers the observe functions subscribe to at start-up; their values are read only at scrape.
  const provider = { onAppended() {}, onCommitted() {}, onPoll() {}, onConfigurationProblem() {}, state: { consecutiveFailures: 0 }, ready: true };
  const app = { get: (token: unknown) => (token === NATS_CONNECTION ? nc : provider) };
  const messaging = { stream: { name: 'IDM_EVENTS' } };
  const logger = { log() {}, error() {}, warn() {} };
  const transport = { isReady: () => true };

  const scheduler = createAppMetrics('scheduler');
  ((await appModule('scheduler/scheduler.observability.js')).schedulerTickMetrics as (m: AppMetrics) => unknown)(scheduler);
  const notifier = createAppMetrics('notifier');
  await ((await appModule('notifier/notifier.observability.js')).observeNotifier as Observe)(app, transport, { metrics: notifier, messaging, port: null, logger });
  const passwordSync = createAppMetrics('password-sync');
  await ((await appModule('password-sync/password-sync.observability.js')).observePasswordSync as Observe)(app, transport, { metrics: passwordSync, messaging, port: null, logger });
  const directorySource = createAppMetrics('directory-source');
  await ((await appModule('directory-source/directory-source.observability.js')).observeDirectorySource as Observe)(app, { metrics: directorySource, port: null, logger });
  return { scheduler, notifier, 'password-sync': passwordSync, 'directory-source': directorySource };
}

describe('deploy/monitoring metric names against what the apps export', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let exported: Map<string, string[]>;

  before(async () => {
    server = await startNatsServer({ jetstream: true });
    nc = await connect({ servers: server.url });
    exported = new Map();
    for (const [app, metrics] of Object.entries(await appRegistries(nc))) {
      for (const name of exportedSeries(metrics.registry)) exported.set(name, [...(exported.get(name) ?? []), app]);
    }
  });

  after(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it('collects the apps\' own metrics and Node\'s defaults (the collection is real)', () => {
    for (const name of ['idm_events_handled_total', 'idm_handler_duration_seconds_bucket', 'idm_pending_emails', 'idm_pending_email_oldest_age_seconds', 'idm_cached_password_next_expiry_seconds', 'idm_password_target_unavailable_streak', 'idm_ticks_missed_total', 'idm_source_poll_failures_in_a_row', 'idm_consumer_pending_messages', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds']) {
      assert.ok(exported.has(name), `${name} exported`);
    }
    assert.deepEqual(exported.get('idm_consumer_pending_messages')?.sort(), ['notifier', 'password-sync']);
    assert.deepEqual(exported.get('idm_dead_letter_messages')?.sort(), ['notifier', 'password-sync']);
    assert.deepEqual(exported.get('idm_ticks_fired_total'), ['scheduler']);
    assert.equal(exported.has('idm_no_such_metric_total'), false);
  });

  it('every metric of every alert expression and dashboard query is exported by an app (or is Prometheus\'s up)', () => {
    const expressions = shippedExpressions();
    assert.ok(expressions.length >= 20);
    const unknown = expressions.flatMap(({ where, expr }) => metricNames(expr).filter((n) => !exported.has(n) && !PROMETHEUS_SERIES.has(n)).map((n) => `${where}: ${n}`));
    assert.deepEqual(unknown, []);
  });
});
