import type { DataSource, EntityManager } from 'typeorm';
import { dataSourceOf, tableOf } from '@idm/persistence';
import { PasswordCacheRow } from './password-cache.entity.js';

/** A `password_cache` row as the engine returns it: snake_case columns, timestamps as ISO text. */
export interface PasswordCacheRecord {
  readonly user_id: string;
  readonly state: string;
  readonly origin: string;
  readonly ciphertext: string | null;
  readonly nonce: string | null;
  readonly tag: string | null;
  readonly key_id: string | null;
  readonly changed_at: string;
  readonly cached_at: string;
  readonly expires_at: string | null;
  readonly attempts: number;
  readonly unavailable_streak: number;
  readonly last_reason: string | null;
  readonly last_message: string | null;
  readonly next_retry_at: string | null;
  readonly settled_at: string | null;
}

/** Every column, in the order of {@link PasswordCacheStatements.saveIfNotOlder}'s parameters. */
export const PASSWORD_CACHE_COLUMNS = [
  'user_id',
  'state',
  'origin',
  'ciphertext',
  'nonce',
  'tag',
  'key_id',
  'changed_at',
  'cached_at',
  'expires_at',
  'attempts',
  'unavailable_streak',
  'last_reason',
  'last_message',
  'next_retry_at',
  'settled_at',
] as const satisfies ReadonlyArray<keyof PasswordCacheRecord>;

/** The columns of the sealed secret: a replay never writes them, it keeps or NULLs them. */
export const PASSWORD_CACHE_SECRET_COLUMNS: ReadonlyArray<keyof PasswordCacheRecord> = ['ciphertext', 'nonce', 'tag', 'key_id'];

/** What a replay writes over an existing row: every column but the key and the secret, in {@link PASSWORD_CACHE_COLUMNS} order. */
export const PASSWORD_CACHE_REPLAYED_COLUMNS: ReadonlyArray<keyof PasswordCacheRecord> = PASSWORD_CACHE_COLUMNS.filter(
  (c) => c !== 'user_id' && !PASSWORD_CACHE_SECRET_COLUMNS.includes(c),
);

/**
 * The hot-path SQL of `password_cache`, written once per DataSource for its engine (placeholders,
 * schema-qualified table name) and then only executed. Why not TypeORM's find/upsert: building a
 * query cost more CPU than SQLite took to run it (profiled in the password-sync bench).
 * Both engines run the same text apart from placeholders and Postgres' row lock.
 */
export interface PasswordCacheStatements {
  /** One row by user id: parameter `user_id`. */
  readonly load: string;
  /** {@link load} holding the row lock until the transaction ends (Postgres; the same as `load` on SQLite). */
  readonly loadForUpdate: string;
  /**
   * Inserts the row, or overwrites it unless the stored row holds a newer change (newest wins).
   * Parameters: {@link PASSWORD_CACHE_COLUMNS}. Returns the user id when written, nothing when the stored row is newer.
   */
  readonly saveIfNotOlder: string;
  /**
   * Overwrites the row only while it still holds the same change, attempt count and sealed secret
   * (`state = 'cached'`, `changed_at`, `attempts`, `nonce`: every write that changes what a decision
   * reads changes one of them). Parameters: {@link PASSWORD_CACHE_COLUMNS} without `user_id`, then
   * `user_id`, `changed_at`, `attempts`, `nonce` as expected. Returns the user id when written.
   */
  readonly saveIfUnchanged: string;
  /** Cached users whose `expires_at` is due: parameters `now` (ISO), `limit`. Uses `password_cache_expiry`. */
  readonly dueForExpiry: string;
  /** Cached users whose outage retry is due: parameters `now` (ISO), `limit`. Uses `password_cache_retry`. */
  readonly dueForRetry: string;
  /**
   * Cached users with no recorded attempt, cached by then: parameters `cachedBefore` (ISO), `limit`.
   * The conditions are literals so that both engines match them to the partial index
   * `password_cache_first_attempt` (a parameter would not prove the index's WHERE).
   */
  readonly dueForFirstAttempt: string;
}

const cache = new WeakMap<DataSource, PasswordCacheStatements>();

/** The statements for `target`'s engine and schema, built on first use. */
export function passwordCacheStatements(target: DataSource | EntityManager): PasswordCacheStatements {
  const dataSource = dataSourceOf(target);
  let statements = cache.get(dataSource);
  if (!statements) {
    statements = build(dataSource);
    cache.set(dataSource, statements);
  }
  return statements;
}

function build(dataSource: DataSource): PasswordCacheStatements {
  const postgres = dataSource.options.type === 'postgres';
  const metadata = dataSource.getMetadata(PasswordCacheRow);
  const escape = (name: string): string => dataSource.driver.escape(name);
  const table = tableOf(dataSource, PasswordCacheRow);
  // Written with `?`; Postgres numbers its placeholders.
  let n = 0;
  const sql = (text: string): string => (postgres ? ((n = 0), text.replace(/\?/g, () => `$${++n}`)) : text);

  const columns = PASSWORD_CACHE_COLUMNS.join(', ');
  const overwritten = PASSWORD_CACHE_COLUMNS.filter((c) => c !== 'user_id');
  const updates = overwritten.map((c) => `${c} = excluded.${c}`).join(', ');
  const assignments = overwritten.map((c) => `${c} = ?`).join(', ');
  const load = sql(`SELECT ${columns} FROM ${table} WHERE user_id = ?`);
  // SQLite without statistics (nobody runs ANALYZE on an embedded file) may pick another index on
  // `state` and read every cached row; INDEXED BY pins the index, and makes preparing the
  // statement fail if the index cannot serve it. Postgres plans from its own statistics.
  const indexed = (index: string): string => (postgres ? table : `${table} INDEXED BY ${index}`);
  const due = (column: string, index: string): string =>
    sql(
      `SELECT user_id FROM ${indexed(index)} WHERE state = 'cached' AND ${column} IS NOT NULL AND ${column} <= ? ORDER BY ${column} ASC LIMIT ?`,
    );
  return {
    load,
    loadForUpdate: postgres ? `${load} FOR UPDATE` : load,
    saveIfNotOlder: sql(
      `INSERT INTO ${table} (${columns}) VALUES (${PASSWORD_CACHE_COLUMNS.map(() => '?').join(', ')}) ` +
        // ISO-8601 text of fixed width compares chronologically on both engines.
        `ON CONFLICT (user_id) DO UPDATE SET ${updates} WHERE ${escape(metadata.tableName)}.changed_at <= excluded.changed_at ` +
        `RETURNING user_id`,
    ),
    saveIfUnchanged: sql(
      `UPDATE ${table} SET ${assignments} WHERE user_id = ? AND state = 'cached' AND changed_at = ? AND attempts = ? AND nonce = ? ` +
        `RETURNING user_id`,
    ),
    dueForExpiry: due('expires_at', 'password_cache_expiry'),
    dueForRetry: due('next_retry_at', 'password_cache_retry'),
    dueForFirstAttempt: sql(
      `SELECT user_id FROM ${indexed('password_cache_first_attempt')} WHERE state = 'cached' AND attempts = 0 AND last_reason IS NULL AND cached_at <= ? ` +
        `ORDER BY cached_at ASC LIMIT ?`,
    ),
  };
}
