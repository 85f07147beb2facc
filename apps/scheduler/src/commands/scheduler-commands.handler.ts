import { appVersion } from '@idm/config';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { CommandSubjects, scheduleFireRequestSchema } from '@idm/contracts';
import { NATS_CONNECTION, RequestResponders } from '@idm/messaging';
import { SchedulerService } from '../ticks/scheduler.service.js';

/** Queue group: with several replicas, one of them answers each command. */
const SCHEDULER_COMMAND_QUEUE = 'idm-scheduler';

/**
 * Answers the operator commands over core-NATS request/reply. Nest's built-in NATS transport needs
 * the `nats` v2 package, which this repo does not use; two subscriptions on the service's existing
 * connection are simpler. Every request gets a JSON reply, errors included.
 */
@Injectable()
export class SchedulerCommandsHandler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly responders: RequestResponders;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    private readonly scheduler: SchedulerService,
  ) {
    this.responders = new RequestResponders(nc, SCHEDULER_COMMAND_QUEUE, new Logger('SchedulerCommands'));
  }

  onApplicationBootstrap(): void {
    this.responders.serve(CommandSubjects.SchedulerList, async () => ({
      ok: true,
      version: appVersion(),
      schedules: await this.scheduler.list(),
    }));
    this.responders.serveParsed(CommandSubjects.SchedulerFire, scheduleFireRequestSchema, '{ "schedule": "<name>" }', async (q) =>
      this.scheduler.fire(q.schedule),
    );
  }

  /** Stops taking requests; those in flight are answered before the connection drains. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.responders.close();
  }
}
