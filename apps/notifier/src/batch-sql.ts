import { onPostgres, type SqlTarget } from '@idm/persistence';

/**
 * Helpers of the notifier's raw, set-based statements (the ingest's reads and upserts; the upserts
 * themselves are `upsertRows` of `@idm/persistence`). Why raw SQL: building TypeORM's multi-row
 * upserts and `In(...)` finds cost more CPU than the database took to run them (profiled in the
 * ingest bench). The tables are named unqualified: on Postgres
 * the connection's `search_path` is the app's schema (see `openDatabase`).
 */

/** `items` in slices of at most `size`, for statements that must stay under SQLite's parameter limit. */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The last item of each key, sorted by key: what successive single-row saves would leave, as one
 * write per row (a Postgres upsert may not touch a row twice in one statement), in one lock order
 * (two transactions upserting overlapping keys then cannot deadlock on Postgres).
 */
export function lastPerKey<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(keyOf(item), item);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
}

/** Ids per SQLite `IN (…)` list. */
const SQLITE_IDS = 500;

/**
 * The `columns` of the rows of `table` whose `user_id` is one of `userIds`: one statement on
 * Postgres (the ids as one array parameter), one per 500 ids on SQLite.
 */
export async function selectByUserIds<R>(target: SqlTarget, table: string, columns: string, userIds: readonly string[]): Promise<R[]> {
  const unique = [...new Set(userIds)];
  if (unique.length === 0) return [];
  if (onPostgres(target))
    return (await target.query(`SELECT ${columns} FROM ${table} WHERE user_id = ANY($1::varchar[])`, [unique])) as R[];
  const out: R[] = [];
  for (const ids of chunked(unique, SQLITE_IDS)) {
    out.push(...((await target.query(`SELECT ${columns} FROM ${table} WHERE user_id IN (${ids.map(() => '?').join(', ')})`, ids)) as R[]));
  }
  return out;
}
