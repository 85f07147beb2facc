import { readinessChecks } from './readiness-checks.js';
import { startAppHealth, type AppHealthDeps } from './start-app-health.js';
import { addStreamBacklogGauges, type StreamBacklogSources, type StreamInfoReader } from './stream-backlog-gauges.js';
import type { HealthServer } from './health-server.js';

/**
 * What a consuming app's health reads, written structurally so this lib needs neither NATS nor
 * TypeORM: its `NatsConnection`, its `JetStreamManager`, its `JetStreamTransport` and its `DataSource`.
 */
export interface ConsumerAppParts {
  readonly nc: { isClosed(): boolean };
  readonly jsm: StreamInfoReader;
  readonly transport: { isReady(): boolean };
  readonly dataSource: { query(sql: string): Promise<unknown> };
}

/**
 * The part every app that consumes a stream into its own database shares: the backlog gauges
 * (dead letters, consumer lag; see {@link addStreamBacklogGauges}) and the health server whose
 * readiness is NATS connected, consumers pulling, database answering. Resolves to null (gauges
 * registered, no server) when `deps.port` is null. Throws only what starting the server throws.
 */
export async function startConsumerAppHealth(
  deps: AppHealthDeps,
  parts: ConsumerAppParts,
  backlog: StreamBacklogSources,
): Promise<HealthServer | null> {
  addStreamBacklogGauges(deps.metrics, parts.jsm, backlog);
  return startAppHealth(deps, [
    readinessChecks.nats(parts.nc),
    readinessChecks.consumers(parts.transport),
    readinessChecks.database(parts.dataSource),
  ]);
}
