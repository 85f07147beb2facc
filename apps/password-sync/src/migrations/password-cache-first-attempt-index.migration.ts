import { TableIndex } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';

// A frozen copy of the entity's FIRST_ATTEMPT_INDEX_WHERE as this migration released it: a
// migration must build the same index on every database whatever the entity says later (a new
// condition is a new migration), and the entity, not its history, owns the current one.
const FIRST_ATTEMPT_INDEX_WHERE = `state = 'cached' AND attempts = 0 AND last_reason IS NULL`;

/**
 * Adds `password_cache_first_attempt`, a partial index on `cached_at` over the rows the sweeper's
 * "accepted but never attempted" query looks for. Without it that query read every cached row on
 * each sweep (a full scan at a million rows). Partial, so it holds only the few passwords between
 * acceptance and their first attempt and costs the other writes nothing.
 * The `expires_at` and `next_retry_at` queries already use `password_cache_expiry` / `_retry`.
 */
export class PasswordCacheFirstAttemptIndex1732500000000 implements MigrationInterface {
  readonly name = 'PasswordCacheFirstAttemptIndex1732500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      'password_cache',
      new TableIndex({ name: 'password_cache_first_attempt', columnNames: ['cached_at'], where: FIRST_ATTEMPT_INDEX_WHERE }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('password_cache', 'password_cache_first_attempt');
  }
}
