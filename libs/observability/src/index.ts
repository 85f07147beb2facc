export { createLogger } from './logger.js';
export { PinoNestLogger } from './nest-logger.js';
export {
  createAppMetrics,
  settledObserver,
  appendedObserver,
  addGauge,
  addCounter,
  countAppendedOutcomes,
  countStoredOutcomes,
  addOutboxRelayGauge,
  ageSeconds,
  secondsLeft,
} from './metrics.js';
export type { AppMetrics, AppendedFacts, CommittedEvents, RelayFailures } from './metrics.js';
export { startHealthServer } from './health-server.js';
export { startAppHealth } from './start-app-health.js';
export type { AppHealthDeps } from './start-app-health.js';
export { startConsumerAppHealth } from './consumer-app-health.js';
export type { ConsumerAppParts } from './consumer-app-health.js';
export { addStreamBacklogGauges } from './stream-backlog-gauges.js';
export type { StreamBacklogSources, StreamInfoReader } from './stream-backlog-gauges.js';
export { readinessChecks } from './readiness-checks.js';
export type { HealthServer, HealthServerOptions, ReadinessCheck } from './health-server.js';
export { healthPortFrom, HealthPortError } from './health-port.js';
export { runApp } from './run-app.js';
export type { AppLogging, AppStart } from './run-app.js';
