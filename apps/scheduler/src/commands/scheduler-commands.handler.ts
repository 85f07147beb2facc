import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { NATS_CONNECTION } from '@idm/messaging';
import { SchedulerService } from '../ticks/scheduler.service.js';
import { fireRequestSchema, SCHEDULER_COMMAND_QUEUE, SchedulerCommandSubjects } from './scheduler-command-subjects.js';

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
    this.serve(SchedulerCommandSubjects.List, async () => ({ ok: true, schedules: await this.scheduler.list() }));
    this.serve(SchedulerCommandSubjects.Fire, async (msg) => {
      let body: unknown;
      try {
        body = msg.json();
      } catch {
        return { ok: false, error: 'the request is not JSON' };
      }
      const request = fireRequestSchema.safeParse(body);
      if (!request.success) return { ok: false, error: 'expected { "schedule": "<name>" }' };
      return this.scheduler.fire(request.data.schedule);
    });
  }

  beforeApplicationShutdown(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }

  private serve(subject: string, answer: (msg: Msg) => Promise<unknown>): void {
    const sub = this.nc.subscribe(subject, {
      queue: SCHEDULER_COMMAND_QUEUE,
      callback: (err, msg) => {
        if (err) {
          this.logger.error(`subscription ${subject} failed: ${err.message}`);
          return;
        }
        answer(msg)
          .catch((e: unknown) => {
            this.logger.error(`${subject} failed: ${(e as Error).message}`);
            return { ok: false, error: (e as Error).message };
          })
          .then((reply) => msg.respond(JSON.stringify(reply)))
          .catch((e: unknown) => this.logger.error(`${subject}: cannot reply: ${(e as Error).message}`));
      },
    });
    this.subscriptions.push(sub);
  }
}
