import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { timestampTableColumn } from '@idm/persistence';

/** Creates `directory_user` (the snapshot) and `source_checkpoint`, on Postgres and SQLite alike. */
export class DirectorySourceTables1764460900000 implements MigrationInterface {
  readonly name = 'DirectorySourceTables1764460900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'directory_user',
        columns: [
          { name: 'user_id', type: 'varchar', length: '256', isPrimary: true },
          { name: 'entry_id', type: 'varchar', length: '64' },
          { name: 'stamp', type: 'varchar', length: '128' },
          { name: 'hash', type: 'varchar', length: '64' },
          { name: 'reported', type: 'text' },
        ],
      }),
      true,
    );
    // Renames are found by entry id; removals by the entry id too.
    await queryRunner.createIndex('directory_user', new TableIndex({ name: 'IDX_directory_user_entry_id', columnNames: ['entry_id'] }));
    await queryRunner.createTable(
      new Table({
        name: 'source_checkpoint',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'value', type: 'text' },
          timestampTableColumn('updated_at'),
        ],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('source_checkpoint', true);
    await queryRunner.dropTable('directory_user', true);
  }
}
