import { InboxEntry } from './inbox-entry.entity.js';
import { PersistenceTables1732300000000 } from './persistence-tables.migration.js';
import { ProjectionCheckpoint } from './projection-checkpoint.entity.js';

export { openDatabase, schemaName, MigrationLockTimeoutError } from './open-database.js';
export type { OpenDatabaseOptions } from './open-database.js';
export { databaseEnv, readDatabaseSettings } from './database-settings.js';
export type { DatabaseSettings } from './database-settings.js';
export { runInTransaction } from './run-in-transaction.js';
export { processOnce } from './process-once.js';
export type { ProcessOnceResult } from './process-once.js';
export { Inbox, INBOX_KEY_MAX_LENGTH } from './inbox.js';
export { advanceCheckpoint, readCheckpoint } from './projection-checkpoint.js';
export type { SqlTarget } from './sql-target.js';
export { InboxEntry } from './inbox-entry.entity.js';
export { ProjectionCheckpoint } from './projection-checkpoint.entity.js';
export { PersistenceTables1732300000000 } from './persistence-tables.migration.js';
export { DatabaseUnavailableError, isTransientDatabaseError } from './database-errors.js';
export {
  bigintColumn,
  bigintNumberTransformer,
  bigintTableColumn,
  isoTimestampTransformer,
  timestampColumn,
  timestampTableColumn,
} from './portable-columns.js';

/** Entities of this lib; spread into the app's `entities` for `openDatabase`. */
export const persistenceEntities = [InboxEntry, ProjectionCheckpoint];

/** Migrations creating `inbox` and `projection_checkpoint`; put them first in the app's list. */
export const persistenceMigrations = [PersistenceTables1732300000000];
