import type { LoggerService } from '@nestjs/common';
import { startHealthServer, type HealthServer, type ReadinessCheck } from './health-server.js';
import type { AppMetrics } from './metrics.js';

/** What every app's observability wiring receives: its metrics, its `HEALTH_PORT` (null: off) and its logger. */
export interface AppHealthDeps {
  readonly metrics: AppMetrics;
  /** `HEALTH_PORT`; null when the operator turned the health server off. */
  readonly port: number | null;
  readonly logger: LoggerService;
}

/**
 * Starts the app's health/metrics server on `deps.port` with its readiness `checks`, serving the
 * app's metrics registry; resolves to null (no server) when the port is null.
 */
export async function startAppHealth(deps: AppHealthDeps, checks: readonly ReadinessCheck[]): Promise<HealthServer | null> {
  if (deps.port === null) return null;
  return startHealthServer({ port: deps.port, registry: deps.metrics.registry, logger: deps.logger, checks });
}
