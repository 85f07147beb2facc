import type { IdmEvent } from '@idm/contracts';
import type { EventPublisher } from '@idm/messaging';
import { EventSink } from './event-sink.js';

/**
 * {@link EventSink} over the stream. Events are appended one after the other, in order, each
 * with its deterministic id as `Nats-Msg-Id`, so a retried handler's re-publish is dropped.
 */
export class JetStreamEventSink extends EventSink {
  constructor(private readonly publisher: EventPublisher) {
    super();
  }

  override async publish(events: readonly IdmEvent[]): Promise<void> {
    for (const event of events) await this.publisher.publish(event);
  }
}
