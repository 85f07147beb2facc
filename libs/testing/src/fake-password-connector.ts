import type { NatsConnection, Subscription } from '@nats-io/nats-core';

/** What password-sync's NATS target sends the connector. */
export interface PasswordConnectorRequest {
  readonly userId: string;
  readonly password: string;
}

/** The connector's answer: `applied`, `user-not-found`, `policy-violation`, … and an optional message. */
export interface PasswordConnectorReply {
  readonly status: string;
  readonly message?: string | undefined;
}

/**
 * A stand-in for the password connector password-sync writes to with `PASSWORD_TARGET=nats:<subject>`:
 * answers every request on `subject` with `answer(request)`. Unsubscribe it when the spec ends.
 */
export function fakePasswordConnector(
  nc: NatsConnection,
  subject: string,
  answer: (request: PasswordConnectorRequest) => PasswordConnectorReply,
): Subscription {
  return nc.subscribe(subject, {
    callback: (_err, msg) => void msg.respond(JSON.stringify(answer(msg.json<PasswordConnectorRequest>()))),
  });
}
