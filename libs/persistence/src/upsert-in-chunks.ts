import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';

/** Which columns an {@link upsertInChunks} updates, on which conflict, and how many rows per statement. */
export interface UpsertOptions {
  /** Column names (not property names) written over on a conflict; the others keep their stored values. */
  readonly update: readonly string[];
  /** The unique columns whose conflict turns the insert into an update (usually the primary key). */
  readonly conflict: readonly string[];
  /** Rows per statement: keep the statement's parameters under the engine's limit. */
  readonly chunk: number;
}

/**
 * The portable multi-row upsert (SQLite and Postgres: `INSERT … ON CONFLICT … DO UPDATE`):
 * writes `rows` into `entity`'s table, `options.chunk` rows per statement, in the transaction of
 * `m`. Throws the first statement's error; the caller's transaction then rolls back what came before.
 */
export async function upsertInChunks<T extends ObjectLiteral>(
  m: EntityManager,
  entity: EntityTarget<T>,
  rows: readonly QueryDeepPartialEntity<T>[],
  options: UpsertOptions,
): Promise<void> {
  for (let i = 0; i < rows.length; i += options.chunk) {
    await m
      .createQueryBuilder()
      .insert()
      .into(entity)
      .values(rows.slice(i, i + options.chunk))
      .orUpdate([...options.update], [...options.conflict])
      .execute();
  }
}
