import { Column, Entity, PrimaryColumn, Table } from 'typeorm';
import type { EntityManager, MigrationInterface, QueryRunner } from 'typeorm';

/** A spec-only entity: a named counter a unit of work increments. */
@Entity({ name: 'spec_counter' })
export class SpecCounter {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 50 })
  id!: string;

  @Column({ name: 'value', type: 'integer' })
  value!: number;
}

/** Creates `spec_counter`, the way an app's own migration would. */
export class SpecCounter1732300000001 implements MigrationInterface {
  readonly name = 'SpecCounter1732300000001';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'spec_counter',
        columns: [
          { name: 'id', type: 'varchar', length: '50', isPrimary: true },
          { name: 'value', type: 'integer' },
        ],
      }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('spec_counter');
  }
}

/** Read-modify-write on purpose: only correct if transactions really are isolated. */
export async function increment(manager: EntityManager, id: string): Promise<number> {
  const repo = manager.getRepository(SpecCounter);
  const row = await repo.findOneBy({ id });
  const value = (row?.value ?? 0) + 1;
  await repo.save({ id, value });
  return value;
}

/** Current value of a counter, 0 when it does not exist. */
export async function counterValue(manager: EntityManager, id: string): Promise<number> {
  return (await manager.getRepository(SpecCounter).findOneBy({ id }))?.value ?? 0;
}
