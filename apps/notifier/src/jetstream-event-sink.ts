import type { IdmEvent } from '@idm/contracts';
import type { EventPublisher } from '@idm/messaging';
import { EventSink } from './event-sink.js';

/**
 * {@link EventSink} over the stream. Events are appended one after the other, in order, each
 * with its deterministic id as `Nats-Msg-Id`, so a retried handler's re-publish is dropped.
 *
 * Appends asked for during one turn of the event loop start together at its end: the client
 * writes what is queued in one microtask as one socket write, so a drained tick (one append per
 * email, each asked for when its send completes) costs far fewer writes than appends. Each
 * append still waits for its own PubAck.
 */
export class JetStreamEventSink extends EventSink {
  private turnEnd: Promise<void> | undefined;

  constructor(private readonly publisher: EventPublisher) {
    super();
  }

  override async publish(events: readonly IdmEvent[]): Promise<void> {
    await this.endOfTurn();
    for (const event of events) await this.publisher.publish(event);
  }

  /** Resolves once, for every caller of this turn, after the turn's I/O callbacks ran. */
  private endOfTurn(): Promise<void> {
    this.turnEnd ??= new Promise((resolve) =>
      setImmediate(() => {
        this.turnEnd = undefined;
        resolve();
      }),
    );
    return this.turnEnd;
  }
}
