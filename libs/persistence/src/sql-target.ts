import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/** Either a DataSource (own short transaction) or a transaction's EntityManager. */
export type SqlTarget = DataSource | EntityManager;

/** The DataSource behind `target` (itself, or the transaction's connection). */
export function dataSourceOf(target: SqlTarget): DataSource {
  return 'manager' in target ? target : target.connection;
}

/** Whether `target` talks to Postgres; otherwise it is the embedded SQLite. */
export function onPostgres(target: SqlTarget): boolean {
  return dataSourceOf(target).options.type === 'postgres';
}

/** Escaped, schema-qualified table name of an entity, for the raw SQL shared by both engines. */
export function tableOf(target: SqlTarget, entity: EntityTarget<ObjectLiteral>): string {
  const dataSource = dataSourceOf(target);
  const metadata = dataSource.getMetadata(entity);
  const driver = dataSource.driver;
  const table = driver.escape(metadata.tableName);
  return metadata.schema && dataSource.options.type === 'postgres' ? `${driver.escape(metadata.schema)}.${table}` : table;
}

/** The engine's positional placeholders (`$1, $2` on Postgres, `?` on SQLite), 0-based index. */
export function placeholder(target: SqlTarget, index: number): string {
  return dataSourceOf(target).driver.createParameter(`p${index}`, index);
}
