import { appVersion } from '@idm/config';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { CommandSubjects, scheduleFireRequestSchema } from '@idm/contracts';
import { NATS_CONNECTION, parseRequest, serveRequests } from '@idm/messaging';
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
  private readonly logger = new Logger('SchedulerCommands');
  private readonly subscriptions: Subscription[] = [];

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly scheduler: SchedulerService,
  ) {}

  onApplicationBootstrap(): void {
    this.serve(CommandSubjects.SchedulerList, async () => ({ ok: true, version: appVersion(), schedules: await this.scheduler.list() }));
    this.serve(CommandSubjects.SchedulerFire, async (msg) => {
      const request = parseRequest(msg, scheduleFireRequestSchema, '{ "schedule": "<name>" }');
      return request.ok ? this.scheduler.fire(request.value.schedule) : request.reply;
    });
  }

  beforeApplicationShutdown(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }

  private serve(subject: string, answer: (msg: Msg) => Promise<unknown>): void {
    this.subscriptions.push(serveRequests(this.nc, subject, SCHEDULER_COMMAND_QUEUE, answer, this.logger));
  }
}
