import type { ColumnOptions, TableColumnOptions, ValueTransformer } from 'typeorm';

/**
 * Timestamps are stored as ISO-8601 UTC strings (`Date#toISOString()`, always 24 characters,
 * e.g. `2025-01-31T12:00:00.000Z`) in a `varchar(30)` on both Postgres and SQLite.
 * Why: one migration works on both engines, the value round-trips with millisecond precision
 * and no time-zone surprises (SQLite has no date type; TypeORM's `timestamp` on Postgres has no
 * zone), and fixed-width ISO strings compare and sort chronologically, so range queries work.
 */
export const isoTimestampTransformer: ValueTransformer = {
  to: (value: unknown): unknown => (value instanceof Date ? value.toISOString() : value),
  from: (value: unknown): unknown => (typeof value === 'string' ? new Date(value) : value),
};

/**
 * `bigint` comes back as a string from Postgres (int8) and as a number from SQLite; stream
 * sequences stay far below 2^53, so both are read as a JS `number`.
 */
export const bigintNumberTransformer: ValueTransformer = {
  to: (value: unknown): unknown => value,
  from: (value: unknown): unknown => (typeof value === 'string' ? Number(value) : value),
};

/**
 * Column options for a portable timestamp on an entity: `@Column(timestampColumn({ name: 'sent_at' }))`.
 * The property type is `Date` (or `Date | null` with `nullable: true`).
 */
export function timestampColumn(options: { name: string; nullable?: boolean }): ColumnOptions {
  return { name: options.name, type: 'varchar', length: 30, nullable: options.nullable ?? false, transformer: isoTimestampTransformer };
}

/** Column options for a 64-bit integer read as `number` (stream sequences, counters). */
export function bigintColumn(options: { name: string; nullable?: boolean }): ColumnOptions {
  return { name: options.name, type: 'bigint', nullable: options.nullable ?? false, transformer: bigintNumberTransformer };
}

/** The migration-side twin of {@link timestampColumn}, for `new Table({ columns: [...] })`. */
export function timestampTableColumn(name: string, options: { nullable?: boolean } = {}): TableColumnOptions {
  return { name, type: 'varchar', length: '30', isNullable: options.nullable ?? false };
}

/** The migration-side twin of {@link bigintColumn}. */
export function bigintTableColumn(name: string, options: { nullable?: boolean; isPrimary?: boolean } = {}): TableColumnOptions {
  return { name, type: 'bigint', isNullable: options.nullable ?? false, isPrimary: options.isPrimary ?? false };
}
