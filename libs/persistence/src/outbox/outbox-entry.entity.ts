import { Column, Entity, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '../portable-columns.js';

/**
 * One event waiting to be published: written in the same transaction as the state change and the
 * inbox row that caused it, removed by the relay once the stream acknowledged it.
 */
@Entity({ name: 'outbox' })
export class OutboxEntry {
  /** Insertion order; the relay publishes in this order (per key). */
  @PrimaryColumn({ name: 'position', type: 'bigint' })
  position!: number;

  /** The event's deterministic id, sent as `Nats-Msg-Id`. */
  @Column({ name: 'event_id', type: 'varchar', length: 200 })
  eventId!: string;

  /** The event's type (the first part of its NATS subject). */
  @Column({ name: 'event_type', type: 'varchar', length: 200 })
  eventType!: string;

  /** The event's CloudEvents subject (the user id, the schedule): the relay keeps order per key. */
  @Column({ name: 'event_key', type: 'varchar', length: 500 })
  eventKey!: string;

  /** The event, serialised as JSON. */
  @Column({ name: 'payload', type: 'text' })
  payload!: string;

  /** When the transaction that emitted the event ran. */
  @Column(timestampColumn({ name: 'created_at' }))
  createdAt!: Date;
}
