export { freePort } from './free-port.js';
export { tempDir } from './temp-dir.js';
export { waitFor, StopWaiting, eventLoopTurns } from './wait-for.js';
export { startNatsServer } from './nats-server.harness.js';
export type { NatsServerHandle } from './nats-server.harness.js';
export { startNatsServerWithLimitedUser, LIMITED_NATS_USERS } from './limited-nats-server.harness.js';
export { createTlsFiles } from './tls-certificates.js';
export type { TlsFiles } from './tls-certificates.js';
export { startNatsCluster } from './nats-cluster.harness.js';
export { startPostgresServer } from './postgres-server.harness.js';
export { startSmtpServer } from './smtp-server.harness.js';
export type { SmtpServerHandle } from './smtp-server.harness.js';
export type { ReceivedMail } from './received-mail.js';
export { startSlapd, SLAPD_POLICY_VIOLATION } from './slapd.harness.js';
export type { SlapdHandle, SlapdOptions } from './slapd.harness.js';
export { testDatabases, testDatabaseOf, dropSchema, DEFAULT_TEST_DATABASE_URL, locationOf, onEachTestDatabase } from './test-databases.js';
export type {
  TestDatabase,
  TestDatabaseLocation,
  SqliteTestDatabase,
  PostgresTestDatabase,
  UnavailableTestDatabase,
} from './test-databases.js';
export { givenWhenThen, FIXED_NOW } from './given-when-then.js';
export { ManualClock } from './manual-clock.js';
export type { Decider, Scenario, When, Then } from './given-when-then.js';
export { anEvent } from './builders.js';
export { memoryLog } from './memory-log.js';
export { fakePasswordConnector, fakeConnectorPasswordSyncEnv } from './fake-password-connector.js';
export { stopChild } from './stop-child.js';
export type { PasswordConnectorReply, PasswordConnectorRequest } from './fake-password-connector.js';
export { appProcessEnv } from './app-process-env.js';
export { specMessagingConfig } from './spec-messaging-config.js';
export type { SpecMessagingOptions } from './spec-messaging-config.js';
export type { AppProcessEnvOptions } from './app-process-env.js';
export { storedEvents } from './stored-events.js';
export type { StoredEventsOptions } from './stored-events.js';
export { fullThenPartialReplayOnEachDatabase } from './replay-on-each-database.js';
export type { ReplayOnEachDatabase } from './replay-on-each-database.js';
export type { MemoryLog, MemoryLogEntry, MemoryLogReadOptions } from './memory-log.js';
export { secretLeaks } from './secret-leaks.js';
export { startSambaAd, sambaAdUnavailable, SAMBA_AD_POLICY_VIOLATION } from './samba-ad.harness.js';
export type { SambaAdHandle } from './samba-ad.harness.js';
export { metricValue } from './metrics-text.js';
