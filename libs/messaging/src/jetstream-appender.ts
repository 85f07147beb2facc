import { JetStreamApiError, PubHeaders, type ApiError, type PubAck } from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  ConnectionError,
  createInbox,
  headers,
  NoRespondersError,
  PermissionViolationError,
  TimeoutError,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/nats-core';

/** What one append asks of JetStream: the part of nats.js's `JetStreamPublishOptions` that {@link EventPublisher} uses. */
export interface AppendOptions {
  /** `Nats-Msg-Id`: the server drops a second message with this id within the stream's dedupe window. */
  readonly msgID: string;
  /** How long to wait for the PubAck, ms. */
  readonly timeout: number;
  /** `Nats-Expected-Last-Subject-Sequence`: store only if the subject's last message has this sequence. */
  readonly expect?: { readonly lastSubjectSequence: number };
}

/** Options of {@link JetStreamAppender}. */
export interface JetStreamAppenderOptions {
  /** Prefix of the reply subject (`_INBOX.<role>`, the connection's `NATS_INBOX_PREFIX`). Default `_INBOX`. */
  readonly inboxPrefix?: string | undefined;
}

/**
 * An append refused before anything was sent, because the connection is down (between a
 * `disconnect` and the next `reconnect`). A `ConnectionError`, retried like one; from it
 * `EventPublisher` knows that this attempt stored nothing (unlike a connection dropped while an
 * append waited, which may have stored it).
 */
export class NotConnectedError extends ConnectionError {
  override readonly name = 'NotConnectedError';
  constructor() {
    super('not connected to NATS (reconnecting)');
  }
}

/** An append waiting for its PubAck. */
interface PendingAppend {
  readonly subject: string;
  readonly deadline: number;
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (err: Error) => void;
}

/** The PubAck body: `{stream, seq, duplicate?, domain?}`, or `{error: {code, err_code, description}}`. */
interface PubAckBody {
  readonly stream?: unknown;
  readonly seq?: unknown;
  readonly duplicate?: unknown;
  readonly domain?: unknown;
  readonly error?: ApiError;
}

/** How often expired appends are looked for: a PubAck timeout fires up to this much late. */
const SWEEP_INTERVAL_MS = 200;

/**
 * Appends to JetStream and waits for the PubAck, like nats.js's `JetStreamClient.publish`, for a
 * fraction of its CPU: nats.js makes each publish a core request, which allocates a request
 * object, a timer, a promise race and a "cancelled" `Error` (with a stack) per message. Here one
 * wildcard subscription (`<inbox>.*`, created on the first append) receives every PubAck, a map
 * finds the waiting append by the reply subject's last token, and one interval sweeps the
 * timed-out appends while any are pending.
 *
 * A resolved promise means the server stored the message (or already had its `Nats-Msg-Id`:
 * `duplicate: true`). It rejects, like nats.js, with
 * - `JetStreamApiError` when the server refused it (`{error: {code, err_code, description}}`:
 *   e.g. 10071 wrong last subject sequence, 10008 temporarily unavailable, 10054 too large);
 * - `NoRespondersError` when no stream listens on the subject (a 503 status: no stream, or a
 *   stream without a leader);
 * - `TimeoutError` after `timeout` ms (up to 200 ms later) without an answer;
 * - `ConnectionError` when the connection drops while it waits (the message or its PubAck may be
 *   lost, so the caller retries with the same id rather than wait out the timeout), or at once
 *   while the connection is down ({@link NotConnectedError}, a `ConnectionError`: nothing sent);
 * - `PermissionViolationError` when this identity may not publish to the subject;
 * - `ClosedConnectionError` (or the subscription's error) when the connection closes or drains,
 *   or the reply subscription is refused.
 * Retrying is the caller's job ({@link EventPublisher}); the message id makes it safe.
 *
 * Relies only on what every JetStream server since 2.2 does, checked on 2.9.10 and in the
 * server's source for 2.10–2.12: a PubAck is a JSON reply without headers to the message's reply
 * subject, and "no responders" is an empty reply with status 503 (the connection is made with
 * headers and no-responders enabled, as nats.js always does).
 */
export class JetStreamAppender {
  private readonly pending = new Map<string, PendingAppend>();
  private readonly inboxPrefix: string | undefined;
  private inbox = '';
  private subscription: Subscription | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private nextToken = 0;
  /** False from a `disconnect` to the next `reconnect` status: nats.js discards what is published meanwhile. */
  private connected = true;

  constructor(
    private readonly nc: NatsConnection,
    options: JetStreamAppenderOptions = {},
  ) {
    this.inboxPrefix = options.inboxPrefix;
    void this.failOnConnectionEvents();
  }

  /** Publishes `payload` to `subject` with the id and expectation headers, and waits for the PubAck. */
  publish(subject: string, payload: string | Uint8Array, options: AppendOptions): Promise<PubAck> {
    return new Promise<PubAck>((resolve, reject) => {
      try {
        if (!this.connected) throw new NotConnectedError();
        const reply = this.replySubject();
        const h = headers();
        h.set(PubHeaders.MsgIdHdr, options.msgID);
        if (options.expect) h.set(PubHeaders.ExpectedLastSubjectSequenceHdr, String(options.expect.lastSubjectSequence));
        this.pending.set(reply.token, { subject, deadline: Date.now() + options.timeout, resolve, reject });
        try {
          this.nc.publish(subject, payload, { reply: reply.subject, headers: h });
        } catch (err) {
          this.pending.delete(reply.token);
          throw err;
        }
        this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
      } catch (err) {
        reject(err as Error);
      }
    });
  }

  /** A fresh reply subject under the shared subscription, subscribing first if there is none. */
  private replySubject(): { token: string; subject: string } {
    if (!this.subscription) {
      this.inbox = `${createInbox(this.inboxPrefix)}.`;
      const subscription = this.nc.subscribe(`${this.inbox}*`, { callback: (err, msg) => this.onReply(err, msg) });
      this.subscription = subscription;
      // Drained, closed with the connection, or refused by the server: what still waits cannot be
      // answered any more. The next append subscribes again (or fails if the connection is gone).
      void subscription.closed.then((reason) => {
        if (this.subscription === subscription) this.subscription = undefined;
        this.failAll(reason instanceof Error ? reason : new ClosedConnectionError());
      });
    }
    const token = (this.nextToken++).toString(36);
    return { token, subject: this.inbox + token };
  }

  private onReply(err: Error | null, msg: Msg): void {
    if (err) return; // the subscription closes with this error; `closed` fails what waits
    const token = msg.subject.slice(this.inbox.length);
    const append = this.pending.get(token);
    if (!append) return; // answered after its timeout: the caller has retried with the same id
    this.pending.delete(token);
    try {
      append.resolve(pubAckOf(msg, append.subject));
    } catch (error) {
      append.reject(error as Error);
    }
  }

  /** Rejects the appends whose deadline has passed; stops sweeping when none waits. */
  private sweep(): void {
    const now = Date.now();
    for (const [token, append] of this.pending) {
      if (append.deadline > now) continue;
      this.pending.delete(token);
      append.reject(new TimeoutError());
    }
    if (this.pending.size === 0) this.stopSweeping();
  }

  private failAll(reason: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.stopSweeping();
    for (const append of waiting) append.reject(reason);
  }

  private stopSweeping(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /**
   * A dropped connection fails every waiting append: the message may not have reached the server,
   * or its PubAck went to a connection that no longer exists. Until the reconnect, appends fail at
   * once: nats.js 3 drops whatever was published while disconnected when it reconnects, so they
   * would otherwise wait out their whole timeout. A publish the server refused for lack of
   * permission fails the appends to that subject, as nats.js fails such a request.
   */
  private async failOnConnectionEvents(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.failAll(new ConnectionError(`disconnected from ${status.server} before the PubAck arrived`));
      } else if (status.type === 'reconnect') {
        this.connected = true;
      } else if (status.type === 'error' && status.error instanceof PermissionViolationError && status.error.operation === 'publish') {
        const refused = status.error;
        for (const [token, append] of this.pending) {
          if (append.subject !== refused.subject) continue;
          this.pending.delete(token);
          append.reject(refused);
        }
      }
    }
  }
}

/**
 * The PubAck in a reply, as nats.js reads it.
 * @throws NoRespondersError on a 503 status, JetStreamApiError on an error body, Error when the
 *   reply is not a PubAck.
 */
function pubAckOf(msg: Msg, subject: string): PubAck {
  if (msg.data.length === 0) {
    if (msg.headers?.code === 503) throw new NoRespondersError(subject);
    throw new Error(`an empty reply to a publish to ${subject} (status ${msg.headers?.code ?? 'none'})`);
  }
  const body = msg.json<PubAckBody>();
  if (body.error) throw new JetStreamApiError(body.error);
  if (typeof body.stream !== 'string' || body.stream === '' || typeof body.seq !== 'number') {
    throw new Error(`not a PubAck in reply to a publish to ${subject}`);
  }
  const ack: PubAck = { stream: body.stream, seq: body.seq, duplicate: body.duplicate === true };
  if (typeof body.domain === 'string') ack.domain = body.domain;
  return ack;
}
