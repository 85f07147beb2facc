import { errorMessage } from '@idm/config';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { CommandSubjects, passwordChangeRequestSchema, type PasswordChangeReply } from '@idm/contracts';
import { NATS_CONNECTION, RequestResponders } from '@idm/messaging';
import { PasswordCacheService } from '../password-cache/password-cache.service.js';
import { PASSWORD_SYNC_CONFIG } from '../password-sync.tokens.js';
import type { PasswordSyncConfig } from '../password-sync.config.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Serves `idm.cmd.password.change` over core-NATS request/reply, in a queue group so replicas
 * share the load. A command, not an event: the request carries the plaintext, which must never
 * reach the JetStream log. Every request gets a reply; no reply text ever echoes the request.
 */
@Injectable()
export class PasswordChangeResponder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PasswordChange');
  private readonly responders: RequestResponders;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(PasswordCacheService) private readonly service: PasswordCacheService,
    @Inject(PASSWORD_SYNC_CONFIG) config: PasswordSyncConfig,
  ) {
    this.responders = new RequestResponders(nc, config.commandQueue, this.logger);
  }

  onApplicationBootstrap(): void {
    this.responders.serve(CommandSubjects.PasswordChange, (msg) => this.reply(msg));
  }

  /** Stops taking requests, then lets those in flight finish and be answered before the connection drains. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.responders.close();
  }

  /**
   * The reply to one request; never throws, so no error message (the responders' default reply
   * to a throw) can reach the requester. A refusal is logged with its reason, which names fields
   * and rules only, never a value.
   */
  private async reply(msg: Msg): Promise<PasswordChangeReply> {
    const size = msg.data.length;
    let reply: PasswordChangeReply;
    try {
      reply = await this.answer(msg);
    } catch (e) {
      // answer() turns every expected failure into a reply; this is for a bug.
      this.logger.error(`password change failed unexpectedly: ${errorMessage(e)}`);
      reply = { ok: false, error: 'the password change failed; try again' };
    }
    if (!reply.ok) this.logger.warn(`password change refused (${size} bytes): ${reply.error}`);
    return reply;
  }

  private async answer(msg: Msg): Promise<PasswordChangeReply> {
    let body: unknown;
    try {
      // Strict: a lenient decode turns invalid bytes into U+FFFD, and a password nobody typed
      // would be cached and applied.
      const text = strictUtf8.decode(msg.data);
      try {
        // JSON.parse's message quotes the input, which holds the password: never pass it on.
        body = JSON.parse(text);
      } catch {
        return { ok: false, error: 'the request is not JSON' };
      }
    } catch {
      return { ok: false, error: 'the request is not valid UTF-8' };
    } finally {
      msg.data.fill(0);
    }
    const parsed = passwordChangeRequestSchema.safeParse(body);
    if (!parsed.success) {
      // zod's messages name the rule (type, length, allowed values), never the value given.
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      return { ok: false, error: `invalid request: ${[...new Set(problems)].join('; ')}; expected { "userId", "password", "origin"? }` };
    }
    const { userId, origin, password } = parsed.data;
    try {
      return await this.service.changePassword({ userId, origin, password: Buffer.from(password, 'utf8') });
    } catch (err) {
      this.logger.error(`password change for ${userId} failed: ${errorMessage(err)}`);
      return { ok: false, error: 'the password change could not be stored; try again' };
    }
  }
}
