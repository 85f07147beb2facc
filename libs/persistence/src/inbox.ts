import type { EntityManager } from 'typeorm';
import { InboxEntry } from './inbox-entry.entity.js';
import { placeholder, tableOf } from './sql-target.js';
import type { SqlTarget } from './sql-target.js';

/** Longest consumer name / event id the `inbox` columns hold. */
export const INBOX_KEY_MAX_LENGTH = 200;

/**
 * The inbox table: which events each consumer has already applied. Use `seen` for the handler's
 * cheap early skip, and `Outbox.once` (or `record` inside your own transaction) for the write
 * that makes the state change exactly-once.
 */
export class Inbox {
  /**
   * Whether `eventId` has been processed (committed) by `consumer`. With a DataSource on SQLite
   * the read waits for a running transaction, so an uncommitted row is never reported.
   */
  static async seen(target: SqlTarget, consumer: string, eventId: string): Promise<boolean> {
    checkKey(consumer, eventId);
    const rows = (await target.query(
      `SELECT 1 AS hit FROM ${tableOf(target, InboxEntry)} WHERE consumer = ${placeholder(target, 0)} AND event_id = ${placeholder(target, 1)}`,
      [consumer, eventId],
    )) as unknown[];
    return rows.length > 0;
  }

  /**
   * Inserts the inbox row inside the caller's transaction. Returns `false` when the row already
   * exists (the event is a duplicate; on Postgres a concurrent uncommitted duplicate makes this
   * wait for that transaction, then return `false` if it committed), `true` when this
   * transaction now owns the event.
   */
  static async record(
    manager: EntityManager,
    consumer: string,
    eventId: string,
    streamSeq: number | undefined,
    now: Date = new Date(),
  ): Promise<boolean> {
    checkKey(consumer, eventId);
    const p = (i: number): string => placeholder(manager, i);
    const rows = (await manager.query(
      `INSERT INTO ${tableOf(manager, InboxEntry)} (consumer, event_id, stream_seq, processed_at) VALUES (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}) ` +
        `ON CONFLICT (consumer, event_id) DO NOTHING RETURNING consumer`,
      [consumer, eventId, streamSeq ?? null, now.toISOString()],
    )) as unknown[];
    return rows.length > 0;
  }

  /**
   * {@link record} for several events in one statement (group commit). Returns the keys
   * (`consumer`, `eventId`) this transaction now owns; a key listed twice is owned once. Rows are
   * inserted in key order, so two transactions inserting overlapping sets lock them in one order.
   */
  static async recordAll(manager: EntityManager, entries: readonly InboxKey[], now: Date = new Date()): Promise<Set<string>> {
    const owned = new Set<string>();
    if (entries.length === 0) return owned;
    const sorted = [...entries].sort((a, b) => compare(inboxKeyOf(a), inboxKeyOf(b)));
    const params: unknown[] = [];
    const values = sorted.map((e) => {
      checkKey(e.consumer, e.eventId);
      const base = params.length;
      params.push(e.consumer, e.eventId, e.streamSeq ?? null, now.toISOString());
      return `(${[0, 1, 2, 3].map((i) => placeholder(manager, base + i)).join(', ')})`;
    });
    const rows = (await manager.query(
      `INSERT INTO ${tableOf(manager, InboxEntry)} (consumer, event_id, stream_seq, processed_at) VALUES ${values.join(', ')} ` +
        `ON CONFLICT (consumer, event_id) DO NOTHING RETURNING consumer, event_id`,
      params,
    )) as Array<{ consumer: string; event_id: string }>;
    for (const row of rows) owned.add(inboxKeyOf({ consumer: row.consumer, eventId: row.event_id }));
    return owned;
  }
}

/** One event seen by one consumer: the inbox's primary key, and the delivery's stream sequence. */
export interface InboxKey {
  readonly consumer: string;
  readonly eventId: string;
  readonly streamSeq?: number | undefined;
}

/** `consumer` and `eventId` as one string, for sets of owned keys. */
export function inboxKeyOf(key: Pick<InboxKey, 'consumer' | 'eventId'>): string {
  return `${key.consumer}\u0000${key.eventId}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkKey(consumer: string, eventId: string): void {
  if (consumer.length === 0 || consumer.length > INBOX_KEY_MAX_LENGTH || eventId.length === 0 || eventId.length > INBOX_KEY_MAX_LENGTH) {
    throw new RangeError(`inbox consumer and event id must be 1..${INBOX_KEY_MAX_LENGTH} characters`);
  }
}
