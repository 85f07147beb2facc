import type { JetStreamManager } from '@nats-io/jetstream';
import { decodeEvent, type IdmEvent } from '@idm/contracts';

/** An event read back from the log with its stream sequence. */
export interface StoredEvent {
  readonly event: IdmEvent;
  readonly seq: number;
}

/**
 * Point reads from the log (not a consumer): the last event stored on a subject, or the event at
 * a sequence. Uses the stream's `last_by_subj` lookup, available on nats-server 2.9+.
 */
export class EventReader {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {}

  /** The last event on `subject`, or undefined when none was ever stored there. */
  async lastOn(subject: string): Promise<StoredEvent | undefined> {
    const msg = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
    if (!msg) return undefined;
    return { event: decodeEvent(msg.data), seq: msg.seq };
  }

  /** The event stored at `seq`, or undefined if it does not exist (deleted or not yet written). */
  async at(seq: number): Promise<StoredEvent | undefined> {
    const msg = await this.jsm.streams.getMessage(this.stream, { seq });
    if (!msg) return undefined;
    return { event: decodeEvent(msg.data), seq: msg.seq };
  }
}
