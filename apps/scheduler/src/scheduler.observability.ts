import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { EventTypes } from '@idm/contracts';
import { EventPublisher, NATS_CONNECTION } from '@idm/messaging';
import { addCounter, appendedObserver, startHealthServer, type AppMetrics, type HealthServer } from '@idm/observability';

/** Default `HEALTH_PORT` of the scheduler (notifier 9102, password-sync 9103). */
export const SCHEDULER_HEALTH_PORT = 9101;

/**
 * The scheduler's metrics and health server: ticks fired per schedule, and catch-up ticks (each
 * one stands for one or more slots missed while no scheduler ran). It has no consumer and no
 * database, so readiness is the NATS connection.
 */
export async function observeScheduler(
  app: INestApplicationContext,
  deps: { readonly metrics: AppMetrics; readonly port: number | null; readonly logger: LoggerService },
): Promise<HealthServer | null> {
  const nc = app.get<NatsConnection>(NATS_CONNECTION);
  const fired = addCounter(deps.metrics, 'idm_ticks_fired_total', 'BulkTaskTick events appended, by schedule', ['schedule']);
  const missed = addCounter(deps.metrics, 'idm_ticks_missed_total', 'Catch-up ticks appended: each stands for one or more missed slots', ['schedule']);
  app.get(EventPublisher).onAppended(
    appendedObserver(deps.metrics, (event) => {
      if (event.type !== EventTypes.BulkTaskTick) return;
      const data = event.data as { schedule: string; catchUp: boolean };
      fired.inc({ schedule: data.schedule });
      if (data.catchUp) missed.inc({ schedule: data.schedule });
    }),
  );
  if (deps.port === null) return null;
  return startHealthServer({
    port: deps.port,
    registry: deps.metrics.registry,
    logger: deps.logger,
    checks: [
      {
        name: 'nats',
        check: () => {
          if (nc.isClosed()) throw new Error('NATS connection closed');
        },
      },
    ],
  });
}
