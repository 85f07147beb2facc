import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `recipient.email` becomes nullable: a directory account may exist before it has a mail address
 * (`UserAdded` without `email`), and the notifier keeps its display name until a `UserModified`
 * brings the address. `changeColumn` rebuilds the table on SQLite and alters it in place on Postgres.
 */
export class RecipientEmailOptional1764600000000 implements MigrationInterface {
  readonly name = 'RecipientEmailOptional1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.changeColumn(
      'recipient',
      'email',
      new TableColumn({ name: 'email', type: 'varchar', length: '320', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM recipient WHERE email IS NULL`);
    await queryRunner.changeColumn('recipient', 'email', new TableColumn({ name: 'email', type: 'varchar', length: '320' }));
  }
}
