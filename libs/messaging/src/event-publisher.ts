import { JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { encodeEvent, subjectFor, type IdmEvent } from '@idm/contracts';
import { MessagingUnavailableError, WrongLastSequenceError } from './errors.js';

/** JetStream's error code for a failed `expected-last-subject-sequence` check. */
const WRONG_LAST_SEQUENCE = 10071;

/** Options of one append. */
export interface PublishOptions {
  /**
   * Optimistic concurrency: append only if the last message on this event's subject has this
   * stream sequence (0 = the subject must be empty). A loser gets {@link WrongLastSequenceError}.
   */
  readonly expectedLastSubjectSequence?: number;
}

/** Where an event landed. `duplicate` = the id was already in the log (within the dedupe window). */
export interface PublishReceipt {
  readonly seq: number;
  readonly duplicate: boolean;
}

/** Tuning of {@link EventPublisher}. */
export interface EventPublisherOptions {
  /** Attempts per event when the server does not answer (restart, leader election). Default 5. */
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
 * @throws WrongLastSequenceError when an expected sequence check fails (never retried).
 * @throws MessagingUnavailableError when the server did not answer after all attempts.
 */
export class EventPublisher {
  private readonly attempts: number;
  private readonly ackTimeoutMs: number;
  private readonly appendedListeners: Array<(event: IdmEvent, receipt: PublishReceipt) => void> = [];

  constructor(
    private readonly js: JetStreamClient,
    options: EventPublisherOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
  }

  /** Appends one event and waits for it to be stored. */
  async publish(event: IdmEvent, options: PublishOptions = {}): Promise<PublishReceipt> {
    const subject = subjectFor(event.type, event.subject);
    const payload = encodeEvent(event);
    const expect = options.expectedLastSubjectSequence !== undefined ? { lastSubjectSequence: options.expectedLastSubjectSequence } : undefined;
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        const ack = await this.js.publish(subject, payload, { msgID: event.id, timeout: this.ackTimeoutMs, ...(expect ? { expect } : {}) });
        const receipt = { seq: ack.seq, duplicate: ack.duplicate };
        if (!receipt.duplicate) this.notifyAppended(event, receipt);
        return receipt;
      } catch (err) {
        if (err instanceof JetStreamApiError) {
          if (err.apiError().err_code === WRONG_LAST_SEQUENCE) throw new WrongLastSequenceError(subject, options.expectedLastSubjectSequence ?? 0, { cause: err });
          throw err; // a refusal (e.g. max message size) will not change on retry
        }
        lastError = err;
        await sleep(Math.min(2_000, 100 * 2 ** (attempt - 1)));
      }
    }
    throw new MessagingUnavailableError(`could not append ${event.type} ${event.id} after ${this.attempts} attempts: ${(lastError as Error)?.message}`, { cause: lastError });
  }

  /**
   * Calls `listener` after each event this publisher stored (not for duplicates the server
   * dropped): for metrics. A throwing listener is ignored; it never fails a publish.
   */
  onAppended(listener: (event: IdmEvent, receipt: PublishReceipt) => void): void {
    this.appendedListeners.push(listener);
  }

  private notifyAppended(event: IdmEvent, receipt: PublishReceipt): void {
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
