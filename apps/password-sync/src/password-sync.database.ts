import type { DataSource } from 'typeorm';
import { openDatabase, persistenceEntities, persistenceMigrations } from '@idm/persistence';
import { PasswordCacheRow } from './password-cache/password-cache.entity.js';
import { PasswordCache1732400000000 } from './migrations/password-cache.migration.js';
import { PasswordCacheFirstAttemptIndex1732500000000 } from './migrations/password-cache-first-attempt-index.migration.js';

/** The app name: the SQLite file `password-sync.sqlite`, the Postgres schema `password_sync`. */
export const PASSWORD_SYNC_APP = 'password-sync';

/** Where password-sync keeps its tables. */
export interface PasswordSyncDatabaseOptions {
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  readonly schema?: string | undefined;
}

/**
 * Opens password-sync's database with its migrations. On SQLite it also turns on
 * `secure_delete`, so pages freed when a secret is overwritten are zero-filled on disk instead of
 * lingering in the file.
 */
export async function openPasswordSyncDatabase(options: PasswordSyncDatabaseOptions): Promise<DataSource> {
  const dataSource = await openDatabase({
    app: PASSWORD_SYNC_APP,
    dataDir: options.dataDir,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.schema ? { schema: options.schema } : {}),
    entities: [...persistenceEntities, PasswordCacheRow],
    migrations: [...persistenceMigrations, PasswordCache1732400000000, PasswordCacheFirstAttemptIndex1732500000000],
  });
  if (dataSource.options.type === 'better-sqlite3') await dataSource.query('PRAGMA secure_delete = ON');
  return dataSource;
}
