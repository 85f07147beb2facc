import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { timestampTableColumn } from '@idm/persistence';

/**
 * Adds instance leases: the `notifier_instance` table and `pending_email.claim_owner`. Claims
 * taken before this migration have no owner and keep expiring by `EMAIL_CLAIM_TTL_SECONDS`.
 */
export class NotifierInstanceLease1764500000000 implements MigrationInterface {
  readonly name = 'NotifierInstanceLease1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'notifier_instance',
        columns: [
          { name: 'instance_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'incarnation', type: 'varchar', length: '64' },
          timestampTableColumn('started_at'),
          timestampTableColumn('heartbeat_at'),
        ],
      }),
      true,
    );
    await queryRunner.addColumn('pending_email', new TableColumn({ name: 'claim_owner', type: 'varchar', length: '64', isNullable: true }));
    // Releasing a dead or retiring instance's claims finds them by owner.
    await queryRunner.createIndex('pending_email', new TableIndex({ name: 'IDX_pending_email_claim_owner', columnNames: ['claim_owner'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('pending_email', 'IDX_pending_email_claim_owner');
    await queryRunner.dropColumn('pending_email', 'claim_owner');
    await queryRunner.dropTable('notifier_instance', true);
  }
}
