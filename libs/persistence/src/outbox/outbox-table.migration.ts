import { Table } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { timestampTableColumn } from '../portable-columns.js';

/**
 * Creates `outbox` in the app's schema (Postgres) or file (SQLite). `position` is an identity
 * column: `bigserial` on Postgres; on SQLite it must be exactly `integer` to be the rowid alias.
 */
export class OutboxTable1764500000000 implements MigrationInterface {
  readonly name = 'OutboxTable1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const positionType = queryRunner.connection.options.type === 'postgres' ? 'bigint' : 'integer';
    await queryRunner.createTable(
      new Table({
        name: 'outbox',
        columns: [
          { name: 'position', type: positionType, isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'event_id', type: 'varchar', length: '200' },
          { name: 'event_type', type: 'varchar', length: '200' },
          { name: 'event_key', type: 'varchar', length: '500' },
          { name: 'payload', type: 'text' },
          timestampTableColumn('created_at'),
        ],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('outbox', true);
  }
}
