import type { EntityManager } from 'typeorm';
import { InboxEntry } from './inbox-entry.entity.js';
import { placeholder, tableOf } from './sql-target.js';
import type { SqlTarget } from './sql-target.js';

/** Longest consumer name / event id the `inbox` columns hold. */
export const INBOX_KEY_MAX_LENGTH = 200;

/**
 * The inbox table: which events each consumer has already applied. Use `seen` for the handler's
 * cheap early skip, and `processOnce` (or `record` inside your own transaction) for the write
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
}

function checkKey(consumer: string, eventId: string): void {
  if (consumer.length === 0 || consumer.length > INBOX_KEY_MAX_LENGTH || eventId.length === 0 || eventId.length > INBOX_KEY_MAX_LENGTH) {
    throw new RangeError(`inbox consumer and event id must be 1..${INBOX_KEY_MAX_LENGTH} characters`);
  }
}
