import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintColumn, timestampColumn } from './portable-columns.js';

/**
 * One processed event per consumer. Written in the same transaction as the state change the
 * event caused, so a redelivered event is recognised and changes state exactly once.
 */
@Entity({ name: 'inbox' })
export class InboxEntry {
  /** Durable consumer (or handler) name. */
  @PrimaryColumn({ name: 'consumer', type: 'varchar', length: 200 })
  consumer!: string;

  /** The event's id (the JetStream `Nats-Msg-Id`). */
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 200 })
  eventId!: string;

  /** Stream sequence of the delivery that was processed, when known. */
  @Column(bigintColumn({ name: 'stream_seq', nullable: true }))
  streamSeq!: number | null;

  /** When the transaction that processed the event ran. */
  @Column(timestampColumn({ name: 'processed_at' }))
  processedAt!: Date;
}
