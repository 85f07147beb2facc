import { Controller, Inject } from '@nestjs/common';
import { EventTypes, type IdmEvent } from '@idm/contracts';
import { Ctx, Payload } from '@nestjs/microservices';
import { EventContext, ConsumeEvents } from '@idm/messaging';
import { EmailFlagService } from './email-flag.service.js';

/**
 * Every event an email rule may react to. User events also refresh the recipient directory;
 * `UserRemoved` forgets the recipient and abandons the user's pending emails.
 * Return = ack (also for "no rule" / "already pending"); a thrown error (DB or NATS down) is
 * retried by the transport; the inbox makes a redelivery change nothing twice.
 * `@Payload()` / `@Ctx()` are required: without them Nest 12 passes an event handler only its payload.
 */
@Controller()
export class EmailFlagHandler {
  constructor(@Inject(EmailFlagService) private readonly flags: EmailFlagService) {}

  @ConsumeEvents([
    EventTypes.UserAdded,
    EventTypes.UserModified,
    EventTypes.UserRemoved,
    EventTypes.PasswordChanged,
    EventTypes.PasswordSynced,
    EventTypes.PasswordSyncFailed,
    EventTypes.PasswordExpired,
  ])
  async onEvent(@Payload() event: IdmEvent, @Ctx() ctx: EventContext): Promise<void> {
    await this.flags.handle(event, { consumer: ctx.consumer, streamSequence: ctx.streamSequence });
  }
}
