import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, ConnectionError, RequestError, TimeoutError } from '@nats-io/nats-core';
import { encodeEvent, subjectFor, type EventType, type IdmEvent } from '@idm/contracts';
import { backoffDelay, type BackoffPolicy } from '@idm/config';
import { isPermissionViolation, MessagingUnavailableError, WrongLastSequenceError } from './errors.js';
import { NotConnectedError, type JetStreamAppender } from './jetstream-appender.js';

/** JetStream's error code for a failed `expected-last-subject-sequence` check. */
const WRONG_LAST_SEQUENCE = 10071;
/** "JetStream system temporarily unavailable": a stream without a leader (election, peer lost). */
const TEMPORARILY_UNAVAILABLE = 10008;
/** 100 ms, 200 ms … capped at 2 s, ±20 %: fast while a server restarts, gentle during a long election. */
const PUBLISH_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 2_000, factor: 2, jitter: 0.2 };

/** Options of one append. */
export interface PublishOptions {
  /**
   * Optimistic concurrency: append only if the last message on this event's subject has this
   * stream sequence (0 = the subject must be empty). A loser gets {@link WrongLastSequenceError}.
   */
  readonly expectedLastSubjectSequence?: number;
}

/**
 * Where an event landed. `duplicate` = the id was in the log (within the dedupe window) before this
 * call: someone else stored it (another replica, a run before a crash). A duplicate answer to a
 * retry after an attempt whose answer was lost (a PubAck timeout, a dropped or closed connection)
 * is taken for that attempt of this call, which the server stored: `duplicate: false`.
 */
export interface PublishReceipt {
  readonly seq: number;
  readonly duplicate: boolean;
}

/**
 * An event already serialised (an outbox row): its id, type and key, and its JSON exactly as
 * `publish` would send it (`encodeEvent`).
 */
export interface StoredEvent {
  readonly id: string;
  readonly type: EventType;
  /** The CloudEvents subject (the key). */
  readonly subject: string;
  readonly payload: string;
}

/** What the {@link EventPublisher.onAppended} listeners are told of an appended event. */
export interface AppendedEvent {
  readonly id: string;
  readonly type: string;
  readonly subject: string;
  /** The event's data (of a stored event, parsed when first read). */
  readonly data: unknown;
}

/**
 * What {@link EventPublisher} appends through: a {@link JetStreamAppender} (the services', from
 * `MessagingModule`), or nats.js's `JetStreamClient` (tests and one-off tools), which has the same
 * `publish` and throws the same errors.
 */
export type PubAckPublisher = Pick<JetStreamAppender, 'publish'>;

/** Tuning of {@link EventPublisher}. */
export interface EventPublisherOptions {
  /**
   * How long one append keeps retrying while the server does not answer (restart, JetStream
   * leader election, a cluster node lost), ms. Default 30 s: an R3 stream elects a new leader
   * within a few seconds; a caller that gives up earlier only turns that into a redelivery.
   */
  readonly retryForMs?: number;
  /** Upper bound on attempts per event within {@link retryForMs}. Default unbounded. */
  readonly attempts?: number;
  /** Wait for each PubAck, ms. Default 5 s. */
  readonly ackTimeoutMs?: number;
}

/**
 * Appends events to the log. Every append waits for JetStream's PubAck, so a resolved promise
 * means the event is stored. `Nats-Msg-Id` is the event id: an event retried by a handler that
 * crashed after publishing is deduplicated by the server, and transport-level retries here are
 * safe for the same reason.
 *
 * Transient failures — no answer (timeout), a dropped connection, no responders (a stream
 * without a leader), "temporarily unavailable" — are retried with backoff (100 ms … 2 s, ±20 %)
 * for up to `retryForMs`. A refusal (message too large, stream not found) is not retried, nor is
 * a publish this identity is not permitted to make: the server will refuse it until an operator
 * changes the permissions, so retrying would only hide the cause behind a later "unavailable".
 * A retry the server answers as a duplicate, after an attempt whose answer was lost, is this
 * call's own event stored by that attempt: it resolves as stored (`duplicate: false`) and the
 * `onAppended` listeners hear of it once.
 *
 * @throws WrongLastSequenceError when an expected sequence check fails (never retried).
 * @throws PermissionViolationError (nats.js) when this identity may not publish to the subject (never retried).
 * @throws MessagingUnavailableError when the server did not store the event within `retryForMs`.
 */
export class EventPublisher {
  private readonly attempts: number;
  private readonly retryForMs: number;
  private readonly ackTimeoutMs: number;
  private readonly appendedListeners: Array<(event: AppendedEvent, receipt: PublishReceipt) => void> = [];

  constructor(
    private readonly js: PubAckPublisher,
    options: EventPublisherOptions = {},
  ) {
    this.attempts = options.attempts ?? Number.POSITIVE_INFINITY;
    this.retryForMs = options.retryForMs ?? 30_000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
  }

  /** Appends one event and waits for it to be stored. */
  async publish(event: IdmEvent, options: PublishOptions = {}): Promise<PublishReceipt> {
    return this.append(event, encodeEvent(event), options);
  }

  /**
   * Appends an event from its stored JSON, sent as it is (the outbox relay: no parse and no second
   * serialisation per row). The same guarantees as {@link publish}; `payload` must be what
   * `encodeEvent` made of the event, as the outbox stores it.
   */
  async publishStored(event: StoredEvent): Promise<PublishReceipt> {
    let data: unknown;
    let parsed = false;
    const appended: AppendedEvent = {
      id: event.id,
      type: event.type,
      subject: event.subject,
      get data(): unknown {
        // Only a listener reading the data pays for the parse (the metrics read the type alone).
        if (!parsed) [data, parsed] = [(JSON.parse(event.payload) as { data: unknown }).data, true];
        return data;
      },
    };
    return this.append(appended, event.payload, {});
  }

  private async append(event: AppendedEvent, payload: Uint8Array | string, options: PublishOptions): Promise<PublishReceipt> {
    const subject = subjectFor(event.type as EventType, event.subject);
    const expect =
      options.expectedLastSubjectSequence !== undefined ? { lastSubjectSequence: options.expectedLastSubjectSequence } : undefined;
    let lastError: unknown;
    /** An earlier attempt's answer was lost: the server may have stored the event from it. */
    let mayHaveStored = false;
    const giveUpAt = Date.now() + this.retryForMs;
    let attempt = 1;
    for (; ; attempt++) {
      try {
        const ack = await this.js.publish(subject, payload, { msgID: event.id, timeout: this.ackTimeoutMs, ...(expect ? { expect } : {}) });
        // A duplicate after a lost answer is most likely this call's own earlier attempt (its id is
        // the event's): counted as stored here, or the metrics would miss every event whose PubAck
        // a reconnect or a slow server lost. On a first attempt it is someone else's.
        const receipt = { seq: ack.seq, duplicate: ack.duplicate && !mayHaveStored };
        if (!receipt.duplicate) this.notifyAppended(event, receipt);
        return receipt;
      } catch (err) {
        if (answerLost(err)) mayHaveStored = true;
        if (err instanceof JetStreamApiError) {
          const code = err.apiError().err_code;
          if (code === WRONG_LAST_SEQUENCE)
            throw new WrongLastSequenceError(subject, options.expectedLastSubjectSequence ?? 0, { cause: err });
          // A refusal (e.g. max message size) will not change on retry; a leaderless stream will.
          if (code !== TEMPORARILY_UNAVAILABLE && err.status !== 503) throw err;
        }
        if (isPermissionViolation(err)) throw err;
        lastError = err;
        const delay = backoffDelay(PUBLISH_BACKOFF, attempt);
        if (attempt >= this.attempts || Date.now() + delay >= giveUpAt) break;
        await sleep(delay);
      }
    }
    throw new MessagingUnavailableError(
      `could not append ${event.type} ${event.id} after ${attempt} attempts in ${Math.round(this.retryForMs / 1000)} s: ${(lastError as Error)?.message}`,
      {
        cause: lastError,
      },
    );
  }

  /**
   * Calls `listener` after each event this publisher stored (not for duplicates the server
   * dropped): for metrics. A call whose first attempt's answer was lost and whose retry came back
   * a duplicate counts as stored, once (see {@link PublishReceipt}); if another publisher stored
   * the same id within that gap, both count it. A throwing listener is ignored; it never fails a
   * publish.
   */
  onAppended(listener: (event: AppendedEvent, receipt: PublishReceipt) => void): void {
    this.appendedListeners.push(listener);
  }

  private notifyAppended(event: AppendedEvent, receipt: PublishReceipt): void {
    for (const listener of this.appendedListeners) {
      try {
        listener(event, receipt);
      } catch {
        // Observers must not turn a stored event into a failed publish (the caller would retry it).
      }
    }
  }

  /**
   * Appends several events, pipelined: all are sent before the acks are awaited, and JetStream
   * stores them in the order sent. If any fails the caller retries the batch; ids make that safe.
   */
  async publishAll(events: readonly IdmEvent[]): Promise<PublishReceipt[]> {
    return Promise.all(events.map((e) => this.publish(e)));
  }
}

/**
 * True when an attempt ended without the server's answer — its PubAck timed out, or the connection
 * dropped or closed while it waited — so the server may have stored the event all the same. A
 * refusal or "no responders" is an answer, and an append refused while the connection was down was
 * never sent: nothing was stored.
 */
function answerLost(err: unknown): boolean {
  if (err instanceof NotConnectedError) return false;
  if (err instanceof RequestError) return !err.isNoResponders(); // nats.js: "connection disconnected" / "closed"
  return err instanceof TimeoutError || err instanceof ConnectionError || err instanceof ClosedConnectionError;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
