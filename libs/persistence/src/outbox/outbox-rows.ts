import type { EntityManager } from 'typeorm';
import { placeholder, tableOf } from '../sql-target.js';
import type { SqlTarget } from '../sql-target.js';
import { OutboxEntry } from './outbox-entry.entity.js';

/** The least an event must carry to go through the outbox: its id, type and key. */
export interface OutboxEvent {
  /** Deterministic id, sent as `Nats-Msg-Id` so a repeated publish is dropped by the stream. */
  readonly id: string;
  readonly type: string;
  /** CloudEvents subject (the key): events of one key are published in the order emitted. */
  readonly subject: string;
}

/** An outbox row as the relay reads it. */
export interface OutboxRow {
  readonly position: number;
  /** The event's id (`Nats-Msg-Id`), type and key, as written with it. */
  readonly eventId: string;
  readonly type: string;
  readonly key: string;
  /** The event as stored: its JSON, byte for byte what is published. */
  readonly payload: string;
}

/** Rows per INSERT: 5 parameters each stays far below SQLite's and Postgres' parameter limits. */
const INSERT_CHUNK = 500;

/** Appends `events` to the outbox inside the caller's transaction, in order, as few statements as possible. */
export async function insertOutboxRows(manager: EntityManager, events: readonly OutboxEvent[], now: Date): Promise<void> {
  const table = tableOf(manager, OutboxEntry);
  const createdAt = now.toISOString();
  for (let start = 0; start < events.length; start += INSERT_CHUNK) {
    const chunk = events.slice(start, start + INSERT_CHUNK);
    const params: unknown[] = [];
    const values = chunk.map((event) => {
      const base = params.length;
      params.push(event.id, event.type, event.subject, JSON.stringify(event), createdAt);
      return `(${[0, 1, 2, 3, 4].map((i) => placeholder(manager, base + i)).join(', ')})`;
    });
    await manager.query(`INSERT INTO ${table} (event_id, event_type, event_key, payload, created_at) VALUES ${values.join(', ')}`, params);
  }
}

/**
 * The oldest `limit` rows, in position order, leaving out the rows at `skip` (published, their
 * delete not yet committed) in the statement, so they are not read again.
 */
export async function readOutboxRows(target: SqlTarget, limit: number, skip: readonly number[] = []): Promise<OutboxRow[]> {
  const where = skip.length > 0 ? ` WHERE position NOT IN (${skip.map((_, i) => placeholder(target, i)).join(', ')})` : '';
  const rows = (await target.query(
    `SELECT position, event_id, event_type, event_key, payload FROM ${tableOf(target, OutboxEntry)}${where} ORDER BY position LIMIT ${Math.max(1, Math.floor(limit))}`,
    [...skip],
  )) as Array<{ position: number | string; event_id: string; event_type: string; event_key: string; payload: string }>;
  return rows.map((r) => ({ position: Number(r.position), eventId: r.event_id, type: r.event_type, key: r.event_key, payload: r.payload }));
}

/** Removes the rows at `positions` (published and acknowledged). */
export async function deleteOutboxRows(target: SqlTarget, positions: readonly number[]): Promise<void> {
  for (let start = 0; start < positions.length; start += INSERT_CHUNK) {
    const chunk = positions.slice(start, start + INSERT_CHUNK);
    await target.query(
      `DELETE FROM ${tableOf(target, OutboxEntry)} WHERE position IN (${chunk.map((_, i) => placeholder(target, i)).join(', ')})`,
      chunk,
    );
  }
}

/** How many rows wait to be published (status pages, tests). */
export async function countOutboxRows(target: SqlTarget): Promise<number> {
  const rows = (await target.query(`SELECT COUNT(*) AS n FROM ${tableOf(target, OutboxEntry)}`)) as Array<{ n: number | string }>;
  return Number(rows[0]?.n ?? 0);
}
