import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { bigintTableColumn, timestampTableColumn } from '@idm/persistence';

/**
 * Creates `recipient` and `pending_email`. Written with TypeORM's `Table` API so it runs on
 * Postgres (inside the notifier's schema) and SQLite alike.
 */
export class NotifierTables1732400000000 implements MigrationInterface {
  readonly name = 'NotifierTables1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'recipient',
        columns: [
          { name: 'user_id', type: 'varchar', length: '256', isPrimary: true },
          { name: 'email', type: 'varchar', length: '320' },
          { name: 'display_name', type: 'varchar', length: '512', isNullable: true },
          bigintTableColumn('updated_seq'),
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'pending_email',
        columns: [
          { name: 'user_id', type: 'varchar', length: '256', isPrimary: true },
          { name: 'email_type', type: 'varchar', length: '64', isPrimary: true },
          { name: 'queued_event_id', type: 'varchar', length: '64' },
          timestampTableColumn('queued_at'),
          timestampTableColumn('first_queued_at'),
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'last_error', type: 'text', isNullable: true },
          { name: 'claimed_tick', type: 'varchar', length: '200', isNullable: true },
          timestampTableColumn('claimed_at', { nullable: true }),
          { name: 'claim_token', type: 'varchar', length: '64', isNullable: true },
          { name: 'context', type: 'text', default: "'{}'" },
        ],
      }),
      true,
    );
    // The claim scans unclaimed or expired rows; the run then reads back its own claims by token.
    await queryRunner.createIndex('pending_email', new TableIndex({ name: 'IDX_pending_email_claimed_at', columnNames: ['claimed_at'] }));
    await queryRunner.createIndex('pending_email', new TableIndex({ name: 'IDX_pending_email_claim_token', columnNames: ['claim_token'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('pending_email', true);
    await queryRunner.dropTable('recipient', true);
  }
}
