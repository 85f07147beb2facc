/** What a spec chooses of {@link specMessagingConfig}. */
export interface SpecMessagingOptions {
  /** The spec's nats-server. */
  readonly url: string;
  /** The spec's own stream, so parallel specs never share one. */
  readonly stream: string;
  /** The connection name (shows in the server's monitoring, so which spec is which). */
  readonly name: string;
  /** Deliveries handled at once; default 4. */
  readonly concurrency?: number;
  /** Default 10 s. */
  readonly ackWaitMs?: number;
}

/**
 * Messaging settings (the shape of `@idm/messaging`'s `MessagingConfig`) for an app running inside
 * a spec: its own stream on the spec's server, five deliveries at most, consuming from the start.
 */
export function specMessagingConfig(options: SpecMessagingOptions): {
  readonly connection: { readonly url: string; readonly name: string };
  readonly stream: { readonly name: string };
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  readonly concurrency: number;
  readonly deliverPolicy: 'all';
} {
  return {
    connection: { url: options.url, name: options.name },
    stream: { name: options.stream },
    maxDeliver: 5,
    ackWaitMs: options.ackWaitMs ?? 10_000,
    concurrency: options.concurrency ?? 4,
    deliverPolicy: 'all',
  };
}
