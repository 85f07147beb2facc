import type { DataSource } from 'typeorm';
import { openDatabase, persistenceEntities, persistenceMigrations } from '@idm/persistence';
import { InstanceLeaseEntity } from './instance-lease/instance-lease.entity.js';
import { NotifierInstanceLease1764500000000 } from './migrations/instance-lease.migration.js';
import { NotifierTables1732400000000 } from './migrations/notifier-tables.migration.js';
import { RecipientEmailOptional1764600000000 } from './migrations/recipient-email-optional.migration.js';
import { PendingEmailEntity } from './pending-emails/pending-email.entity.js';
import { RecipientEntity } from './recipients/recipient.entity.js';

/** Entities of the notifier's own tables plus the shared inbox. */
export const notifierEntities = [...persistenceEntities, RecipientEntity, PendingEmailEntity, InstanceLeaseEntity];

/** Migrations in order: shared tables first. */
export const notifierMigrations = [
  ...persistenceMigrations,
  NotifierTables1732400000000,
  NotifierInstanceLease1764500000000,
  RecipientEmailOptional1764600000000,
];

/** Opens the notifier's database (own Postgres schema `notifier`, or `<dataDir>/notifier.sqlite`) and migrates it. */
export function openNotifierDatabase(options: {
  databaseUrl?: string | undefined;
  dataDir: string;
  schema?: string | undefined;
}): Promise<DataSource> {
  return openDatabase({
    app: 'notifier',
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    dataDir: options.dataDir,
    ...(options.schema ? { schema: options.schema } : {}),
    entities: notifierEntities,
    migrations: notifierMigrations,
  });
}
