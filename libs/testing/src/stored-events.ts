import type { JetStreamManager } from '@nats-io/jetstream';
import { decodeEvent, type IdmEvent } from '@idm/contracts';

/** Options of {@link storedEvents}. */
export interface StoredEventsOptions {
  /**
   * What a message that does not decode does: `throw` (default: a spec that appends only valid
   * events should fail on one) or `skip` (a spec that appends an undecodable message on purpose).
   */
  readonly undecodable?: 'throw' | 'skip';
}

/**
 * Every event stored in `stream` so far, in stream order, read message by message with the stream
 * API (no consumer, nothing acked): what a spec checks the apps appended. Sequences with no message
 * (deleted, or a gap) are passed over.
 */
export async function storedEvents(jsm: JetStreamManager, stream: string, options: StoredEventsOptions = {}): Promise<IdmEvent[]> {
  const { state } = await jsm.streams.info(stream);
  const out: IdmEvent[] = [];
  if (state.messages === 0) return out;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!m) continue;
    try {
      out.push(decodeEvent(m.data));
    } catch (err) {
      if (options.undecodable !== 'skip') throw err;
    }
  }
  return out;
}
