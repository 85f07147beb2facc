import type { INestMicroservice } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { DataSource } from 'typeorm';
import { Outbox, OutboxRelay } from '@idm/persistence';
import { EventTypes } from '@idm/contracts';
import { deadLetterStreamName, EventPublisher, NATS_CONNECTION, type JetStreamTransport, type MessagingConfig } from '@idm/messaging';
import {
  addCounter,
  addGauge,
  addOutboxRelayGauge,
  countStoredOutcomes,
  secondsLeft,
  startConsumerAppHealth,
  type AppHealthDeps,
  type HealthServer,
} from '@idm/observability';
import { PasswordCacheService } from './password-cache/password-cache.service.js';
import { PASSWORD_SYNC_CONSUMER } from './password-sync.tokens.js';
import { Clock } from '@idm/config';
import { PasswordTarget } from './targets/password-target.js';

/** Default `HEALTH_PORT` of password-sync (scheduler 9101, notifier 9102). */
export const PASSWORD_SYNC_HEALTH_PORT = 9103;

/**
 * password-sync's metrics and health server: passwords synced / failed / expired (from the events
 * it stores — never a password or a user id as a label), cached passwords, the earliest expiry,
 * the target-unavailable streak, the outbox relay's failed rounds in a row, consumer lag, and
 * readiness = NATS connected, consumer pulling, database answering.
 */
export async function observePasswordSync(
  app: INestMicroservice,
  transport: JetStreamTransport,
  deps: AppHealthDeps & { readonly messaging: MessagingConfig },
): Promise<HealthServer | null> {
  const { metrics } = deps;
  const dataSource = app.get(DataSource);
  const nc = app.get<NatsConnection>(NATS_CONNECTION);
  const cache = app.get(PasswordCacheService);
  // The app's clock, as the cache uses for expiresAt (a manual one in the specs).
  const clock = app.get(Clock);
  // Counted when each outcome's transaction commits, not when the relay publishes it (again, after a crash).
  countStoredOutcomes(
    metrics,
    app.get(EventPublisher),
    [app.get(Outbox)],
    'idm_password_outcomes_total',
    'Cached-password outcomes: synced, sync_failed (each failed attempt), expired',
    {
      [EventTypes.PasswordSynced]: 'synced',
      [EventTypes.PasswordSyncFailed]: 'sync_failed',
      [EventTypes.PasswordExpired]: 'expired',
    },
  );
  addOutboxRelayGauge(metrics, app.get(OutboxRelay));
  const problems = addCounter(
    metrics,
    'idm_password_target_configuration_problems_total',
    'Attempts that failed because of the target configuration (service account credentials or rights, TLS trust); retried with backoff',
  );
  app.get(PasswordTarget).onConfigurationProblem(() => problems.inc());
  addGauge(metrics, 'idm_cached_passwords', 'Passwords cached and not yet synced or expired', () => cache.cachedCount());
  // One read per scrape feeds both gauges below (both collect() calls of a scrape share it).
  let health: ReturnType<typeof cache.cachedHealth> | null = null;
  const cachedHealth = (): ReturnType<typeof cache.cachedHealth> => {
    health ??= cache.cachedHealth().finally(() => setImmediate(() => (health = null)));
    return health;
  };
  // A password about to expire unsynced is a user who will have to set it again: alert before.
  addGauge(
    metrics,
    'idm_cached_password_next_expiry_seconds',
    'Seconds until the earliest cached password expires unsynced (+Inf when none expires)',
    async () => secondsLeft((await cachedHealth()).earliestExpiresAt, clock.now()),
  );
  addGauge(
    metrics,
    'idm_password_target_unavailable_streak',
    'Longest run of consecutive target-unavailable failures of one cached password (0 when the target answers)',
    async () => (await cachedHealth()).longestUnavailableStreak,
  );
  const jsm = await jetstreamManager(nc);
  const stream = deps.messaging.stream.name;
  const backlog = { stream, deadLetterStream: deadLetterStreamName(stream), consumers: [PASSWORD_SYNC_CONSUMER] };
  return startConsumerAppHealth(deps, { nc, jsm, transport, dataSource }, backlog);
}
