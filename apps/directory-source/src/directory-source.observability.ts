import type { INestApplicationContext } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { DataSource } from 'typeorm';
import { EventTypes } from '@idm/contracts';
import { EventPublisher, NATS_CONNECTION } from '@idm/messaging';
import {
  addCounter,
  addGauge,
  countAppendedOutcomes,
  readinessChecks,
  startAppHealth,
  type AppHealthDeps,
  type HealthServer,
} from '@idm/observability';
import { PollLoop } from './poller/poll-loop.js';
import { PollService } from './poller/poll.service.js';
import { SnapshotRepository } from './snapshot/snapshot.repository.js';

/** Default `HEALTH_PORT` of the directory source (scheduler 9101, notifier 9102, password-sync 9103). */
export const DIRECTORY_SOURCE_HEALTH_PORT = 9104;

/**
 * Metrics: polls by kind and outcome, user events appended by type, entries skipped and mail
 * values refused by reason, LDAP requests of the last poll, users in the snapshot, consecutive
 * failures. Readiness: NATS connected, database answering, and fewer than
 * `SOURCE_UNREADY_AFTER_FAILURES` failed polls in a row (the failing check says why).
 */
export async function observeDirectorySource(app: INestApplicationContext, deps: AppHealthDeps): Promise<HealthServer | null> {
  const { metrics } = deps;
  const nc = app.get<NatsConnection>(NATS_CONNECTION);
  const dataSource = app.get(DataSource);
  const loop = app.get(PollLoop);
  const snapshot = app.get(SnapshotRepository);
  countAppendedOutcomes(
    metrics,
    app.get(EventPublisher),
    'idm_source_user_events_total',
    'User events appended by the directory source: added, modified, removed',
    {
      [EventTypes.UserAdded]: 'added',
      [EventTypes.UserModified]: 'modified',
      [EventTypes.UserRemoved]: 'removed',
    },
  );
  const polls = addCounter(metrics, 'idm_source_polls_total', 'Polls of the directory by kind (full, incremental)', ['kind']);
  const skipped = addCounter(
    metrics,
    'idm_source_entries_skipped_total',
    'Directory entries skipped (no user id, no stable id, no change stamp)',
    ['reason'],
  );
  const warnings = addCounter(
    metrics,
    'idm_source_entry_warnings_total',
    'Directory entries read with a problem (e.g. a mail value that is not an address)',
    ['warning'],
  );
  let lastRequests = 0;
  app.get(PollService).onPoll((report) => {
    polls.inc({ kind: report.kind });
    for (const [reason, n] of report.skipped) skipped.inc({ reason }, n);
    for (const [warning, n] of report.warnings) warnings.inc({ warning }, n);
    lastRequests = report.requests;
  });
  addGauge(metrics, 'idm_source_last_poll_ldap_requests', 'LDAP requests sent by the last successful poll', () => lastRequests);
  addGauge(
    metrics,
    'idm_source_poll_failures_in_a_row',
    'Consecutive failed polls (0 after a success)',
    () => loop.state.consecutiveFailures,
  );
  addGauge(metrics, 'idm_source_snapshot_users', 'Users in the source snapshot', () => snapshot.count());
  return startAppHealth(deps, [
    readinessChecks.nats(nc),
    readinessChecks.database(dataSource),
    {
      name: 'directory',
      check: () => {
        if (!loop.ready) throw new Error(`${loop.state.consecutiveFailures} polls failed in a row: ${loop.state.lastError ?? 'unknown'}`);
      },
    },
  ]);
}
