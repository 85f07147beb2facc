import { Column, Entity, PrimaryColumn, Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** A per-user counter: the "state" a handler changes exactly once per event. */
@Entity({ name: 'user_counter' })
export class UserCounter {
  @PrimaryColumn({ type: 'varchar', length: 200, name: 'user_id' })
  userId!: string;

  @Column({ type: 'integer' })
  count!: number;
}

export class UserCounterTable1732400000000 implements MigrationInterface {
  name = 'UserCounterTable1732400000000';
  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'user_counter',
        columns: [
          { name: 'user_id', type: 'varchar', length: '200', isPrimary: true },
          { name: 'count', type: 'integer' },
        ],
      }),
    );
  }
  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('user_counter');
  }
}
