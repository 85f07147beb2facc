import { Table, TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { timestampTableColumn } from '@idm/persistence';

/** Creates `password_cache`; TypeORM's `Table` API so one migration runs on Postgres and SQLite. */
export class PasswordCache1732400000000 implements MigrationInterface {
  readonly name = 'PasswordCache1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'password_cache',
        columns: [
          { name: 'user_id', type: 'varchar', length: '256', isPrimary: true },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'origin', type: 'varchar', length: '16' },
          { name: 'ciphertext', type: 'text', isNullable: true },
          { name: 'nonce', type: 'varchar', length: '32', isNullable: true },
          { name: 'tag', type: 'varchar', length: '32', isNullable: true },
          { name: 'key_id', type: 'varchar', length: '32', isNullable: true },
          timestampTableColumn('changed_at'),
          timestampTableColumn('cached_at'),
          timestampTableColumn('expires_at', { nullable: true }),
          { name: 'attempts', type: 'integer' },
          { name: 'unavailable_streak', type: 'integer' },
          { name: 'last_reason', type: 'varchar', length: '32', isNullable: true },
          { name: 'last_message', type: 'text', isNullable: true },
          timestampTableColumn('next_retry_at', { nullable: true }),
          timestampTableColumn('settled_at', { nullable: true }),
        ],
      }),
      true,
    );
    await queryRunner.createIndex(
      'password_cache',
      new TableIndex({ name: 'password_cache_expiry', columnNames: ['state', 'expires_at'] }),
    );
    await queryRunner.createIndex(
      'password_cache',
      new TableIndex({ name: 'password_cache_retry', columnNames: ['state', 'next_retry_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('password_cache', true);
  }
}
