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

/**
 * password-sync's settings for a spec stack whose connector is a {@link fakePasswordConnector} on
 * `subject`: the NATS target, the embedded mode (no directory source of its own), and 1-second
 * source polls and sweeps so a spec is not kept waiting by the production defaults.
 */
export function fakeConnectorPasswordSyncEnv(subject: string): NodeJS.ProcessEnv {
  return {
    PASSWORD_TARGET: `nats:${subject}`,
    IDM_EMBEDDED: 'true',
    SOURCE_POLLING_INTERVAL_SECONDS: '1',
    PASSWORD_SWEEP_INTERVAL_SECONDS: '1',
  };
}
