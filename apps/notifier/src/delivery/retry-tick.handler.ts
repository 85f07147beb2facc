import { Controller, Inject, Logger } from '@nestjs/common';
import { EventTypes, type IdmEventOf } from '@idm/contracts';
import { Ctx, Payload } from '@nestjs/microservices';
import { EventContext, ConsumeEvents } from '@idm/messaging';
import type { NotifierConfig } from '../notifier.config.js';
import { NOTIFIER_CONFIG, NOTIFIER_TICK_CONSUMER } from '../notifier.tokens.js';
import { TickDeliveryService } from './tick-delivery.service.js';

/**
 * A `BulkTaskTick` of the retry task sends the pending emails. Ticks of other tasks are acked
 * and ignored. A failure to store outcomes (database) throws (nak → retried); SMTP failures do
 * not, they are outcomes. Ticks of one schedule are handled one at a time by the transport (same key), and
 * the database claim keeps replicas and overlapping runs from sending one email twice.
 */
@Controller()
export class RetryTickHandler {
  private readonly logger = new Logger('RetryTick');

  constructor(
    @Inject(TickDeliveryService) private readonly delivery: TickDeliveryService,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
  ) {}

  @ConsumeEvents(EventTypes.BulkTaskTick, { consumer: NOTIFIER_TICK_CONSUMER })
  async onTick(@Payload() event: IdmEventOf<typeof EventTypes.BulkTaskTick>, @Ctx() ctx: EventContext): Promise<void> {
    if (event.data.task !== this.config.retryTask) return;
    const report = await this.delivery.deliver(event, () => ctx.working());
    if (report.claimed > 0) this.logger.log(`tick ${event.id}: ${JSON.stringify(report)}`);
  }
}
