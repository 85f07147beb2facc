import { onPostgres, type SqlTarget } from '@idm/persistence';
import { chunked, selectByUserIds } from '../batch-sql.js';
import type { PendingEmail, PendingEmailKey } from './pending-email.js';

/**
 * The statements that reach `pending_email` by key — (user, email type), or (user, email type,
 * claim token) for a run's own claims — one way on each engine: on Postgres the keys travel as one
 * array parameter per column, `unnest`ed, in ONE statement; on SQLite as a row-value
 * `IN (VALUES …)` list, one statement per {@link SQLITE_KEYS} keys. Raw SQL, as the ingest's
 * statements (`batch-sql.ts`): TypeORM's builders cost more CPU to build these than the database
 * takes to run them.
 *
 * A claim's token is never something the database may reach rows by: right after a claim its
 * statistics still say no row carries the new token, and both engines then scanned every claimed
 * row through the `claim_token` index, for every block renewed and every batch of outcomes (62 ms
 * per renewal of 256 keys among 10,000 claimed on Postgres; the drain's busiest statement). So the
 * token is compared after the primary key found the row: on Postgres as the join's
 * `IS NOT DISTINCT FROM` filter (neither indexable nor hashable, and not a restriction of
 * `pending_email` whose estimate could steer the plan), on SQLite as the third value of the
 * row-value list, whose first two are the primary key. Tokens are never null here, so the
 * comparison is plain equality. `pending-email-keys-plan.int-spec.ts` checks the plans.
 */

/** Keys per SQLite statement: three parameters a key stay far below its parameter limit. */
const SQLITE_KEYS = 300;

/** The columns of a whole row, in {@link PendingEmailRecord} shape. */
const COLUMNS =
  'user_id, email_type, queued_event_id, queued_at, first_queued_at, attempts, last_error, claimed_tick, claimed_at, claim_token, context';

/** A `pending_email` row as both engines return it (timestamps as the columns' ISO text, context as JSON). */
interface PendingEmailRecord {
  readonly user_id: string;
  readonly email_type: string;
  readonly queued_event_id: string;
  readonly queued_at: string;
  readonly first_queued_at: string;
  readonly attempts: number;
  readonly last_error: string | null;
  readonly claimed_tick: string | null;
  readonly claimed_at: string | null;
  readonly claim_token: string | null;
  readonly context: string;
}

/** The pending email a row holds (the claim's owner is the row's, not the email's). */
function pendingOf(row: PendingEmailRecord): PendingEmail {
  return {
    userId: row.user_id,
    emailType: row.email_type,
    queuedEventId: row.queued_event_id,
    queuedAt: new Date(row.queued_at),
    firstQueuedAt: new Date(row.first_queued_at),
    attempts: Number(row.attempts),
    lastError: row.last_error,
    claimedTick: row.claimed_tick,
    claimedAt: row.claimed_at === null ? null : new Date(row.claimed_at),
    claimToken: row.claim_token,
    context: JSON.parse(row.context) as Record<string, string>,
  };
}

/** A pending email as claimed by one run: its key and the run's token. */
export interface PendingEmailClaim extends PendingEmailKey {
  readonly claimToken: string;
}

/** One statement's share of the keys: Postgres `unnest($n::varchar[], …)` or SQLite `VALUES (?, ?), …`, and its parameters. */
interface KeyList {
  readonly source: string;
  readonly params: unknown[];
}

/**
 * `rows` (each the same number of key columns) as the key lists of {@link byKeys}: one on
 * Postgres, whose arrays are parameters `$first`…; one per {@link SQLITE_KEYS} rows on SQLite.
 */
function keyLists(target: SqlTarget, rows: ReadonlyArray<readonly string[]>, first: number): KeyList[] {
  const width = rows[0]?.length ?? 0;
  if (width === 0) return [];
  const columns = Array.from({ length: width }, (_, i) => i);
  if (onPostgres(target)) {
    return [
      {
        source: `unnest(${columns.map((i) => `$${first + i}::varchar[]`).join(', ')})`,
        params: columns.map((i) => rows.map((row) => row[i])),
      },
    ];
  }
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return chunked(rows, SQLITE_KEYS).map((chunk) => ({ source: `VALUES ${chunk.map(() => tuple).join(', ')}`, params: chunk.flat() }));
}

/**
 * Runs one statement per key list of `rows` (`statement` gets the list's SQL; `before` are the
 * statement's parameters ahead of the keys, the same in every statement) and concatenates the
 * rows they return. TypeORM hands a Postgres UPDATE / DELETE back as `[rows, count]`.
 */
async function byKeys<R>(
  target: SqlTarget,
  rows: ReadonlyArray<readonly string[]>,
  statement: (keys: string) => string,
  before: readonly unknown[] = [],
): Promise<R[]> {
  const out: R[] = [];
  for (const list of keyLists(target, rows, before.length + 1)) {
    const raw = (await target.query(statement(list.source), [...before, ...list.params])) as unknown;
    const returned = onPostgres(target) && Array.isArray(raw) && Array.isArray(raw[0]) ? (raw[0] as R[]) : (raw as R[]);
    out.push(...(Array.isArray(returned) ? returned : []));
  }
  return out;
}

/** Postgres: the claimed rows of an `unnest(user_id, email_type, claim_token)` list aliased `k`; see the module comment for why so. */
const CLAIMED_BY_K = 'p.user_id = k.user_id AND p.email_type = k.email_type AND p.claim_token IS NOT DISTINCT FROM k.claim_token';
const K_COLUMNS = 'AS k(user_id, email_type, claim_token)';

/**
 * The rows of `keys` (absent keys are missing). With `lock` the rows are locked until the
 * transaction ends (`FOR UPDATE` on Postgres; SQLite transactions take turns anyway), so what the
 * caller decides from them still holds when it writes.
 */
export async function selectPendingByKeys(target: SqlTarget, keys: readonly PendingEmailKey[], lock = false): Promise<PendingEmail[]> {
  const forUpdate = lock && onPostgres(target) ? ' FOR UPDATE' : '';
  const rows = await byKeys<PendingEmailRecord>(
    target,
    keys.map((k) => [k.userId, k.emailType]),
    (list) => `SELECT ${COLUMNS} FROM pending_email WHERE (user_id, email_type) IN (${inList(target, list)})${forUpdate}`,
  );
  return rows.map(pendingOf);
}

/** The rows of `userIds`, see {@link selectByUserIds} (the replay's partial load). */
export async function selectPendingOfUsers(target: SqlTarget, userIds: readonly string[]): Promise<PendingEmail[]> {
  return (await selectByUserIds<PendingEmailRecord>(target, 'pending_email', COLUMNS, userIds)).map(pendingOf);
}

/** The rows one run claimed, oldest first. */
export async function selectClaimedPending(target: SqlTarget, token: string): Promise<PendingEmail[]> {
  const param = onPostgres(target) ? '$1' : '?';
  const rows = (await target.query(
    `SELECT ${COLUMNS} FROM pending_email WHERE claim_token = ${param} ORDER BY first_queued_at, user_id, email_type`,
    [token],
  )) as PendingEmailRecord[];
  return rows.map(pendingOf);
}

/** Deletes the rows of `keys`, present or not, whoever claimed them; call inside the transaction. */
export async function deletePendingByKeys(target: SqlTarget, keys: readonly PendingEmailKey[]): Promise<void> {
  await byKeys(
    target,
    keys.map((k) => [k.userId, k.emailType]),
    (list) => `DELETE FROM pending_email WHERE (user_id, email_type) IN (${inList(target, list)})`,
  );
}

/**
 * Deletes the rows of `claims` that still carry their claim's token, in one statement (Postgres),
 * and returns the keys it deleted: a key not returned had no row, or one another run (or nobody)
 * claims now. The deleted rows stay locked by the transaction until it ends.
 */
export async function deleteClaimedPending(target: SqlTarget, claims: readonly PendingEmailClaim[]): Promise<PendingEmailKey[]> {
  const rows = await byKeys<{ user_id: string; email_type: string }>(
    target,
    claims.map((c) => [c.userId, c.emailType, c.claimToken]),
    (list) =>
      onPostgres(target)
        ? `DELETE FROM pending_email p USING ${list} ${K_COLUMNS} WHERE ${CLAIMED_BY_K} RETURNING p.user_id, p.email_type`
        : `DELETE FROM pending_email WHERE (user_id, email_type, claim_token) IN (${list}) RETURNING user_id, email_type`,
  );
  return rows.map((r) => ({ userId: r.user_id, emailType: r.email_type }));
}

/**
 * Sets the columns of `set` to its values on the rows of `keys` that `token` still claims, and
 * returns how many it changed.
 */
export async function updateClaimedPending(
  target: SqlTarget,
  keys: readonly PendingEmailKey[],
  token: string,
  set: Readonly<Record<string, string | null>>,
): Promise<number> {
  const columns = Object.keys(set);
  const assignments = columns.map((c, i) => `${c} = ${onPostgres(target) ? `$${i + 1}` : '?'}`).join(', ');
  const rows = await byKeys(
    target,
    keys.map((k) => [k.userId, k.emailType, token]),
    (list) =>
      onPostgres(target)
        ? `UPDATE pending_email p SET ${assignments} FROM ${list} ${K_COLUMNS} WHERE ${CLAIMED_BY_K} RETURNING p.user_id`
        : `UPDATE pending_email SET ${assignments} WHERE (user_id, email_type, claim_token) IN (${list}) RETURNING user_id`,
    Object.values(set),
  );
  return rows.length;
}

/** A key list as the right side of `(user_id, email_type) IN (…)`. */
function inList(target: SqlTarget, list: string): string {
  return onPostgres(target) ? `SELECT * FROM ${list}` : list;
}
