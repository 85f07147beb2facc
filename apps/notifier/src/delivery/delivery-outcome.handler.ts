import { Controller, Inject } from '@nestjs/common';
import { EventTypes } from '@idm/contracts';
import { Ctx, Payload } from '@nestjs/microservices';
import { EventContext, ConsumeEvents } from '@idm/messaging';
import { DeliveryOutcomeService } from './delivery-outcome.service.js';
import type { DeliveryEvent } from '../pending-emails/pending-email.evolve.js';

/** Applies the notifier's own delivery events: this is where flags are cleared. */
@Controller()
export class DeliveryOutcomeHandler {
  constructor(@Inject(DeliveryOutcomeService) private readonly outcomes: DeliveryOutcomeService) {}

  @ConsumeEvents([EventTypes.EmailSent, EventTypes.EmailFailed, EventTypes.EmailAbandoned])
  async onOutcome(@Payload() event: DeliveryEvent, @Ctx() ctx: EventContext): Promise<void> {
    await this.outcomes.apply(event, { consumer: ctx.consumer, streamSequence: ctx.streamSequence });
  }
}
