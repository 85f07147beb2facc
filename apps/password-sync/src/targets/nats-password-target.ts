import { z } from 'zod';
import type { NatsConnection } from '@nats-io/nats-core';
import { errorMessage, redactSecrets } from '@idm/config';
import { PasswordTarget, type ApplyResult } from './password-target.js';

/** The reply an external connector sends on the `nats:<subject>` target. */
export const connectorReplySchema = z.object({
  status: z.enum(['applied', 'user-not-found', 'policy-violation', 'unavailable']),
  message: z.string().max(2000).optional(),
});

/** The request body: `{ userId, password }`. Core NATS only — never a stream subject. */
export interface ConnectorRequest {
  readonly userId: string;
  readonly password: string;
}

/**
 * Hands passwords to an external connector by core-NATS request/reply on `subject`.
 * No reply within `timeoutMs`, no responders, or a closed connection → `target-unavailable`.
 */
export class NatsPasswordTarget extends PasswordTarget {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly timeoutMs = 10_000,
  ) {
    super();
  }

  describe(): string {
    return `nats:${this.subject}`;
  }

  async apply(userId: string, password: Buffer | string): Promise<ApplyResult> {
    const text = typeof password === 'string' ? password : password.toString('utf8');
    const body = Buffer.from(JSON.stringify({ userId, password: text } satisfies ConnectorRequest), 'utf8');
    let reply: unknown;
    try {
      const msg = await this.nc.request(this.subject, body, { timeout: this.timeoutMs });
      reply = msg.json<unknown>();
    } catch (err) {
      const why = err instanceof Error ? `${err.name}: ${err.message}` : errorMessage(err);
      return { status: 'target-unavailable', message: redactSecrets(`no answer from ${this.describe()}: ${why}`, [password]) };
    } finally {
      body.fill(0);
    }
    const parsed = connectorReplySchema.safeParse(reply);
    if (!parsed.success)
      return {
        status: 'target-error',
        message: `${this.describe()} sent an invalid reply: ${parsed.error.issues[0]?.message ?? 'unknown'}`,
      };
    const message = redactSecrets(parsed.data.message ?? '', [password]);
    switch (parsed.data.status) {
      case 'applied':
        return { status: 'applied' };
      case 'user-not-found':
        return { status: 'user-not-found', message: message || `${this.describe()}: user not found` };
      case 'policy-violation':
        return { status: 'policy-violation', message: message || `${this.describe()}: password rejected by policy` };
      case 'unavailable':
        return { status: 'target-unavailable', message: message || `${this.describe()}: target unavailable` };
    }
  }
}
