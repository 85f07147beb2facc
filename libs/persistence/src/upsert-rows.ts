import { onPostgres, type SqlTarget } from './sql-target.js';

/** The one statement shape of {@link upsertRows}: `INSERT INTO table (columns) … ON CONFLICT (conflict) DO UPDATE SET set`. */
export interface UpsertStatement {
  /** The table as the SQL names it (unqualified when the connection's `search_path` finds it, else {@link tableOf}). */
  readonly table: string;
  /**
   * The columns of each row, in the order of the row's values, each with its Postgres type
   * (`varchar`, `text`, `integer`, `bigint`…): there the rows arrive as one `<type>[]` per column.
   */
  readonly columns: Readonly<Record<string, string>>;
  /** The unique columns whose conflict turns the insert into an update (usually the primary key). */
  readonly conflict: readonly string[];
  /**
   * The `DO UPDATE SET` list: `excluded.<column>` is the offered value, `<table>.<column>` the
   * stored one (see {@link setExcluded} for the usual "overwrite these").
   */
  readonly set: string;
  /** Rows per SQLite statement: keep `rows × columns` under its parameter limit. */
  readonly sqliteChunk: number;
}

/** `a = excluded.a, b = excluded.b`: the `SET` list that overwrites `columns` with the offered row. */
export function setExcluded(columns: readonly string[]): string {
  return columns.map((c) => `${c} = excluded.${c}`).join(', ');
}

/**
 * The multi-row upsert of both engines, written as raw set-based SQL: on Postgres ONE statement,
 * the rows passed as one array parameter per column and expanded with `unnest`; on SQLite one
 * `VALUES (…), (…)` statement per `sqliteChunk` rows. Why not TypeORM's query builder
 * (`insert().orUpdate()`): building its multi-row statements cost more CPU than the database took
 * to run them (profiled in the ingest and replay benches). `rows` hold the values as stored
 * (timestamps as the columns' ISO text), in {@link UpsertStatement.columns} order; a Postgres
 * upsert may not touch one row twice, so give each key once. Call inside the caller's
 * transaction; the first failing statement throws and the transaction rolls back what came before.
 */
export async function upsertRows(target: SqlTarget, statement: UpsertStatement, rows: ReadonlyArray<readonly unknown[]>): Promise<void> {
  if (rows.length === 0) return;
  const { table, columns, conflict, set, sqliteChunk } = statement;
  const names = Object.keys(columns);
  const head = `INSERT INTO ${table} (${names.join(', ')})`;
  const tail = `ON CONFLICT (${conflict.join(', ')}) DO UPDATE SET ${set}`;
  if (onPostgres(target)) {
    const arrays = Object.values(columns).map((type, i) => `$${i + 1}::${type}[]`);
    await target.query(
      `${head} SELECT * FROM unnest(${arrays.join(', ')}) ${tail}`,
      names.map((_, i) => rows.map((row) => row[i])),
    );
    return;
  }
  const placeholders = `(${names.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += sqliteChunk) {
    const chunk = rows.slice(i, i + sqliteChunk);
    await target.query(`${head} VALUES ${chunk.map(() => placeholders).join(', ')} ${tail}`, chunk.flat());
  }
}
