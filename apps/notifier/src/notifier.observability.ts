import type { INestMicroservice } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { DataSource } from 'typeorm';
import { EventTypes, type IdmEvent } from '@idm/contracts';
import { deadLetterStreamName, EventPublisher, NATS_CONNECTION, type JetStreamTransport, type MessagingConfig } from '@idm/messaging';
import {
  addGauge,
  addOutboxRelayGauge,
  ageSeconds,
  countStoredOutcomes,
  startConsumerAppHealth,
  type AppHealthDeps,
  type AppMetrics,
  type HealthServer,
} from '@idm/observability';
import { Outbox, OutboxRelay } from '@idm/persistence';
import { NOTIFIER_CONSUMER, NOTIFIER_OUTCOME_OUTBOX, NOTIFIER_TICK_CONSUMER } from './notifier.tokens.js';
import { PendingEmailEntity } from './pending-emails/pending-email.entity.js';
import { PendingEmailRepository } from './pending-emails/pending-email.repository.js';

/** Default `HEALTH_PORT` of the notifier (scheduler 9101, password-sync 9103). */
export const NOTIFIER_HEALTH_PORT = 9102;

/**
 * `idm_emails_total{outcome}`: each `EmailSent` / `EmailFailed` / `EmailAbandoned` counted once,
 * when the transaction that stores it (with its flag change) commits — the tick's outcomes, and the
 * abandons of a `UserRemoved` — never again when the relay publishes it a second time after a crash.
 * Appended events are counted by type from `publisher` (`idm_events_published_total`).
 */
export function countEmailOutcomes(metrics: AppMetrics, publisher: EventPublisher, outboxes: readonly Outbox<IdmEvent>[]): void {
  countStoredOutcomes(
    metrics,
    publisher,
    outboxes,
    'idm_emails_total',
    'Emails by outcome: sent, failed (each failed attempt), abandoned',
    {
      [EventTypes.EmailSent]: 'sent',
      [EventTypes.EmailFailed]: 'failed',
      [EventTypes.EmailAbandoned]: 'abandoned',
    },
  );
}

/**
 * The notifier's metrics and health server: emails sent / failed / abandoned (counted as their
 * events are stored, {@link countEmailOutcomes}), pending emails (rows in `pending_email`) and the oldest one's age, the
 * outbox relay's failed rounds in a row, consumer lag, and readiness =
 * NATS connected, consumers pulling, database answering.
 */
export async function observeNotifier(
  app: INestMicroservice,
  transport: JetStreamTransport,
  deps: AppHealthDeps & { readonly messaging: MessagingConfig },
): Promise<HealthServer | null> {
  const { metrics } = deps;
  const dataSource = app.get(DataSource);
  const nc = app.get<NatsConnection>(NATS_CONNECTION);
  countEmailOutcomes(metrics, app.get(EventPublisher), [app.get(Outbox), app.get(NOTIFIER_OUTCOME_OUTBOX)]);
  addOutboxRelayGauge(metrics, app.get(OutboxRelay));
  addGauge(metrics, 'idm_pending_emails', 'Emails flagged and not yet sent or abandoned', () =>
    dataSource.getRepository(PendingEmailEntity).count(),
  );
  // The backlog's age, not only its size: a few emails stuck for hours are the incident a steady
  // count hides. first_queued_at survives re-flags, so a retried email keeps its real age.
  const pendingEmails = new PendingEmailRepository();
  addGauge(
    metrics,
    'idm_pending_email_oldest_age_seconds',
    'Age of the oldest pending email (since first flagged), 0 when none',
    async () => ageSeconds(await pendingEmails.oldestFirstQueuedAt(dataSource), new Date()),
  );
  const jsm = await jetstreamManager(nc);
  const stream = deps.messaging.stream.name;
  const backlog = { stream, deadLetterStream: deadLetterStreamName(stream), consumers: [NOTIFIER_CONSUMER, NOTIFIER_TICK_CONSUMER] };
  return startConsumerAppHealth(deps, { nc, jsm, transport, dataSource }, backlog);
}
