import type { DataSource } from 'typeorm';
import { openDatabase, persistenceEntities, persistenceMigrations } from '@idm/persistence';
import { DirectorySourceTables1764460900000 } from './migrations/directory-source-tables.migration.js';
import { DirectoryUserEntity, SourceCheckpointEntity } from './snapshot/snapshot.entity.js';

/** The app name: the SQLite file `directory-source.sqlite`, the Postgres schema `directory_source`. */
export const DIRECTORY_SOURCE_APP = 'directory-source';

/** Where the source keeps its snapshot. */
export interface DirectorySourceDatabaseOptions {
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /** Postgres schema override (tests). */
  readonly schema?: string | undefined;
}

/** Opens the source's own database and runs its migrations. */
export function openDirectorySourceDatabase(options: DirectorySourceDatabaseOptions): Promise<DataSource> {
  return openDatabase({
    app: DIRECTORY_SOURCE_APP,
    dataDir: options.dataDir,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.schema ? { schema: options.schema } : {}),
    entities: [...persistenceEntities, DirectoryUserEntity, SourceCheckpointEntity],
    migrations: [...persistenceMigrations, DirectorySourceTables1764460900000],
  });
}
