import { errorMessage } from '@idm/config';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { CommandSubjects, passwordChangeRequestSchema, type PasswordChangeReply } from '@idm/contracts';
import { NATS_CONNECTION, OutboundBatch, replyBody } from '@idm/messaging';
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
  private subscription: Subscription | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Replies leave once per event-loop turn, not one socket write each (see OutboundBatch). */
  private readonly replies = new OutboundBatch((e) => this.logger.error(`cannot reply: ${errorMessage(e)}`));

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(PasswordCacheService) private readonly service: PasswordCacheService,
    @Inject(PASSWORD_SYNC_CONFIG) private readonly config: PasswordSyncConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = this.nc.subscribe(CommandSubjects.PasswordChange, {
      queue: this.config.commandQueue,
      callback: (err, msg) => {
        if (err) {
          this.logger.error(`subscription failed: ${err.message}`);
          return;
        }
        const size = msg.data.length;
        const work = this.answer(msg)
          // answer() turns every expected failure into a reply; this is for a bug. The requester
          // still gets an answer instead of waiting out its timeout.
          .catch((e: unknown): PasswordChangeReply => {
            this.logger.error(`password change failed unexpectedly: ${errorMessage(e)}`);
            return { ok: false, error: 'the password change failed; try again' };
          })
          .then((reply) => {
            // The reason names fields and rules only, never a value: safe to log.
            if (!reply.ok) this.logger.warn(`password change refused (${size} bytes): ${reply.error}`);
            this.replies.respond(msg, replyBody(reply, CommandSubjects.PasswordChange, this.logger));
          })
          .finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
      },
    });
  }

  /** Stops taking requests, then lets those in flight finish before the connection drains. */
  async beforeApplicationShutdown(): Promise<void> {
    this.subscription?.unsubscribe();
    await Promise.allSettled([...this.inFlight]);
    this.replies.flush();
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
