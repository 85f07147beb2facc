import { InboxEntry } from './inbox-entry.entity.js';
import { PersistenceTables1732300000000 } from './persistence-tables.migration.js';
import { ProjectionCheckpoint } from './projection-checkpoint.entity.js';
export { openDatabase } from './open-database.js';
export { databaseEnv, readDatabaseSettings } from './database-settings.js';
export { runInTransaction } from './run-in-transaction.js';
export { processOnce } from './process-once.js';
export { Inbox } from './inbox.js';
export { advanceCheckpoint } from './projection-checkpoint.js';
// The entity and migration classes are exported because persistenceEntities / persistenceMigrations
// name them in their declared types.
export { InboxEntry } from './inbox-entry.entity.js';
export { ProjectionCheckpoint } from './projection-checkpoint.entity.js';
export { PersistenceTables1732300000000 } from './persistence-tables.migration.js';
export { bigintColumn, bigintTableColumn, timestampColumn, timestampTableColumn } from './portable-columns.js';

/** Entities of this lib; spread into the app's `entities` for `openDatabase`. */
export const persistenceEntities = [InboxEntry, ProjectionCheckpoint];

/** Migrations creating `inbox` and `projection_checkpoint`; put them first in the app's list. */
export const persistenceMigrations = [PersistenceTables1732300000000];
