import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { EventTypes, type IdmEventOf } from '@idm/contracts';
import { EventContext, ConsumeEvents } from '@idm/messaging';
import { PasswordCacheService } from '../password-cache/password-cache.service.js';

/**
 * `UserAdded` / `UserModified` are when a cached password is retried (the seed: "not retried
 * again until an Add or Modify event occurs for the user"). Return = ack; a thrown error (DB down)
 * is retried by the transport; the inbox makes a redelivery change nothing twice.
 */
@Controller()
export class UserEventsHandler {
  constructor(@Inject(PasswordCacheService) private readonly service: PasswordCacheService) {}

  @ConsumeEvents([EventTypes.UserAdded, EventTypes.UserModified])
  // @Payload/@Ctx are required: without parameter decorators Nest passes only the payload.
  async onUser(
    @Payload() event: IdmEventOf<typeof EventTypes.UserAdded> | IdmEventOf<typeof EventTypes.UserModified>,
    @Ctx() ctx: EventContext,
  ): Promise<void> {
    await this.service.onUserChanged(event, ctx.streamSequence);
  }

  /** `UserRemoved`: a cached password for the account is destroyed (`PasswordExpired{reason: user-removed}`). */
  @ConsumeEvents([EventTypes.UserRemoved])
  async onRemoved(@Payload() event: IdmEventOf<typeof EventTypes.UserRemoved>, @Ctx() ctx: EventContext): Promise<void> {
    await this.service.onUserRemoved(event, ctx.streamSequence);
  }
}
