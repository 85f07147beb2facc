import { InboxEntry } from './inbox-entry.entity.js';
import { PersistenceTables1732300000000 } from './persistence-tables.migration.js';
import { ProjectionCheckpoint } from './projection-checkpoint.entity.js';
import { OutboxEntry } from './outbox/outbox-entry.entity.js';
import { OutboxTable1764500000000 } from './outbox/outbox-table.migration.js';

export { openDatabase, schemaName, MigrationLockTimeoutError } from './open-database.js';
export type { OpenDatabaseOptions } from './open-database.js';
export { databaseEnv, readDatabaseSettings } from './database-settings.js';
export { runInTransaction } from './run-in-transaction.js';
export { SqliteWalSyncError } from './sqlite-wal-sync.js';
export type { WalFileSync } from './sqlite-wal-sync.js';
export { setExcluded, upsertRows } from './upsert-rows.js';
export type { UpsertStatement } from './upsert-rows.js';
export { Inbox, INBOX_KEY_MAX_LENGTH } from './inbox.js';
export type { InboxKey } from './inbox.js';
export { Outbox } from './outbox/outbox.js';
export type { UnitOfWork, OnceResult, OnceKey, OutboxOptions, BatchWork, TransactionRider } from './outbox/outbox.js';
export { OutboxRelay } from './outbox/outbox-relay.js';
export type { OutboxPublisher, OutboxRelayOptions, StoredOutboxEvent } from './outbox/outbox-relay.js';
export { logOutboxRelayReports } from './outbox/outbox-relay-report.js';
export type { OutboxRelayLogger, OutboxRelayReport } from './outbox/outbox-relay-report.js';
export { countOutboxRows } from './outbox/outbox-rows.js';
export type { OutboxEvent } from './outbox/outbox-rows.js';
export { OutboxEntry } from './outbox/outbox-entry.entity.js';
export { OutboxTable1764500000000 } from './outbox/outbox-table.migration.js';
export { advanceCheckpoint, readCheckpoint } from './projection-checkpoint.js';
export type { SqlTarget } from './sql-target.js';
export { dataSourceOf, onPostgres, tableOf } from './sql-target.js';
export { InboxEntry } from './inbox-entry.entity.js';
export { ProjectionCheckpoint } from './projection-checkpoint.entity.js';
export { PersistenceTables1732300000000 } from './persistence-tables.migration.js';
export { bigintColumn, bigintTableColumn, timestampColumn, timestampTableColumn } from './portable-columns.js';

/** Entities of this lib; spread into the app's `entities` for `openDatabase`. */
export const persistenceEntities = [InboxEntry, ProjectionCheckpoint, OutboxEntry];

/** Migrations creating `inbox`, `projection_checkpoint` and `outbox`; put them first in the app's list. */
export const persistenceMigrations = [PersistenceTables1732300000000, OutboxTable1764500000000];
