import type { IdmEvent } from '@idm/contracts';

/**
 * Where the notifier's output events go (a DI token). In the app it appends to the stream with
 * each event's deterministic id as `Nats-Msg-Id`, in order; it resolves only once they are stored.
 */
export abstract class EventSink {
  abstract publish(events: readonly IdmEvent[]): Promise<void>;
}
