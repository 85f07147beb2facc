import type { EntityManager } from 'typeorm';
import { ProjectionCheckpoint } from './projection-checkpoint.entity.js';
import { placeholder, tableOf } from './sql-target.js';
import type { SqlTarget } from './sql-target.js';

/**
 * Records that `projection` has applied everything up to stream sequence `seq`, inside the
 * caller's transaction (pass the same manager that wrote the projection's state). Never moves
 * backwards: a lower or equal `seq` leaves the row untouched. Returns whether it moved.
 */
export async function advanceCheckpoint(manager: EntityManager, projection: string, seq: number, now: Date = new Date()): Promise<boolean> {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`checkpoint sequence must be a non-negative integer, got ${seq}`);
  const p = (i: number): string => placeholder(manager, i);
  const rows = (await manager.query(
    `INSERT INTO ${tableOf(manager, ProjectionCheckpoint)} AS cp (projection, last_seq, updated_at) VALUES (${p(0)}, ${p(1)}, ${p(2)}) ` +
      `ON CONFLICT (projection) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at ` +
      `WHERE cp.last_seq < excluded.last_seq RETURNING projection`,
    [projection, seq, now.toISOString()],
  )) as unknown[];
  return rows.length > 0;
}

/** The last stream sequence `projection` has applied, or `undefined` if it never advanced. */
export async function readCheckpoint(target: SqlTarget, projection: string): Promise<number | undefined> {
  const rows = (await target.query(
    `SELECT last_seq FROM ${tableOf(target, ProjectionCheckpoint)} WHERE projection = ${placeholder(target, 0)}`,
    [projection],
  )) as Array<{ last_seq: number | string }>;
  const row = rows[0];
  return row === undefined ? undefined : Number(row.last_seq);
}
