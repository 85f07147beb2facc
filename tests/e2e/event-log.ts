import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { IdmEvent, IdmEventOf } from '@idm/contracts';
import { connectNats, EventPublisher, readStreamInBatches, type NatsConnectionConfig } from '@idm/messaging';

/**
 * The test's view of the event stream: publishes as an outside producer would, and reads back
 * everything the apps appended (incrementally, with an ordered consumer; nothing is acked).
 */
export class EventLog {
  private readonly events: IdmEvent[] = [];
  private lastSeq = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    readonly publisher: EventPublisher,
  ) {}

  /** Opens on `url` without credentials, or with a whole connection config (auth, TLS). */
  static async open(server: string | NatsConnectionConfig, stream: string): Promise<EventLog> {
    const nc = await connectNats(typeof server === 'string' ? { url: server, name: 'e2e-spec' } : server);
    const js = jetstream(nc);
    return new EventLog(nc, js, await jetstreamManager(nc), stream, new EventPublisher(js));
  }

  /** Appends `event`; returns its stream sequence. */
  async publish(event: IdmEvent): Promise<number> {
    return (await this.publisher.publish(event)).seq;
  }

  /** Every event in the stream so far, in stream order. */
  async all(): Promise<readonly IdmEvent[]> {
    await readStreamInBatches(this.js, this.jsm, { stream: this.stream, fromSeq: this.lastSeq + 1 }, async (batch) => {
      for (const entry of batch) {
        if (entry.event) this.events.push(entry.event);
        this.lastSeq = entry.seq;
      }
    });
    return this.events;
  }

  /** The events of one type so far, optionally only those about `subject` (a user id). */
  async ofType<T extends IdmEvent['type']>(type: T, subject?: string): Promise<IdmEventOf<T>[]> {
    const matching = (await this.all()).filter((e) => e.type === type && (subject === undefined || e.subject === subject));
    return matching as unknown as IdmEventOf<T>[];
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}
