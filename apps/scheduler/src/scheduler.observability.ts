import type { INestApplicationContext } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { EventTypes, type BulkTaskTickData } from '@idm/contracts';
import { NATS_CONNECTION } from '@idm/messaging';
import {
  addCounter,
  appendedObserver,
  readinessChecks,
  startAppHealth,
  type AppendedFacts,
  type AppHealthDeps,
  type AppMetrics,
  type HealthServer,
} from '@idm/observability';

/** Default `HEALTH_PORT` of the scheduler (notifier 9102, password-sync 9103). */
export const SCHEDULER_HEALTH_PORT = 9101;

/**
 * The scheduler's metrics: ticks fired per schedule, catch-up ticks, and the slots they stand for
 * (missed while no scheduler ran). Returns the appended-event listener to hand to the module, so
 * the start-up catch-up tick is counted as well. `schedules`: the configured schedule names, whose
 * series start at 0.
 */
export function schedulerTickMetrics(metrics: AppMetrics, schedules: readonly string[] = []): (event: AppendedFacts) => void {
  const fired = addCounter(metrics, 'idm_ticks_fired_total', 'BulkTaskTick events appended, by schedule', ['schedule']);
  const missed = addCounter(
    metrics,
    'idm_ticks_missed_total',
    'Schedule slots that got no tick of their own (folded into a catch-up tick)',
    ['schedule'],
  );
  const catchUps = addCounter(metrics, 'idm_ticks_catch_up_total', 'Catch-up ticks appended (late, or standing for missed slots)', [
    'schedule',
  ]);
  // Every configured schedule's series exists from the start at 0: a scheduler that never ticks
  // after a restart shows `increase(...) == 0` (the "no ticks" alert) instead of no series at all.
  for (const schedule of schedules) for (const c of [fired, missed, catchUps]) c.inc({ schedule }, 0);
  return appendedObserver(metrics, (event) => {
    if (event.type !== EventTypes.BulkTaskTick) return;
    const data = event.data as BulkTaskTickData;
    fired.inc({ schedule: data.schedule });
    if (data.catchUp) catchUps.inc({ schedule: data.schedule });
    if (data.missedSlots) missed.inc({ schedule: data.schedule }, data.missedSlots);
  });
}

/** The scheduler's health server. It has no consumer and no database, so readiness is the NATS connection. */
export async function startSchedulerHealth(app: INestApplicationContext, deps: AppHealthDeps): Promise<HealthServer | null> {
  return startAppHealth(deps, [readinessChecks.nats(app.get<NatsConnection>(NATS_CONNECTION))]);
}
