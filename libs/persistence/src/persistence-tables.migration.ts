import { Table } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { bigintTableColumn, timestampTableColumn } from './portable-columns.js';

/**
 * Creates `inbox` and `projection_checkpoint`. Written with TypeORM's `Table` API so the same
 * migration runs on Postgres (inside the app's schema) and SQLite.
 */
export class PersistenceTables1732300000000 implements MigrationInterface {
  readonly name = 'PersistenceTables1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'inbox',
        columns: [
          { name: 'consumer', type: 'varchar', length: '200', isPrimary: true },
          { name: 'event_id', type: 'varchar', length: '200', isPrimary: true },
          bigintTableColumn('stream_seq', { nullable: true }),
          timestampTableColumn('processed_at'),
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'projection_checkpoint',
        columns: [
          { name: 'projection', type: 'varchar', length: '200', isPrimary: true },
          bigintTableColumn('last_seq'),
          timestampTableColumn('updated_at'),
        ],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('projection_checkpoint', true);
    await queryRunner.dropTable('inbox', true);
  }
}
