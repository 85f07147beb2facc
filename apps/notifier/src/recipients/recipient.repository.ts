import { type DataSource, type EntityManager } from 'typeorm';
import type { Recipient } from './recipient.decider.js';
import { RecipientEntity } from './recipient.entity.js';
import { selectRecipients, upsertRecipients } from './recipient.statements.js';

type Target = DataSource | EntityManager;

function toRecipient(row: RecipientEntity): Recipient {
  return { userId: row.userId, email: row.email, displayName: row.displayName, updatedSeq: row.updatedSeq };
}

/** Reads and writes `recipient`. */
export class RecipientRepository {
  async find(target: Target, userId: string): Promise<Recipient | undefined> {
    const row = await target.getRepository(RecipientEntity).findOneBy({ userId });
    return row ? toRecipient(row) : undefined;
  }

  /** Recipients of many users, by user id; a 10 000-email tick stays a few queries (one on Postgres). */
  async findMany(target: Target, userIds: readonly string[]): Promise<Map<string, Recipient>> {
    return selectRecipients(target, userIds);
  }

  /** Forgets a user (UserRemoved); call inside the handler's transaction. */
  async delete(manager: EntityManager, userId: string): Promise<void> {
    await manager.getRepository(RecipientEntity).delete({ userId });
  }

  /** Inserts or replaces many in one statement (per 500 on SQLite, group commit); call inside the transaction. */
  async saveMany(manager: EntityManager, recipients: readonly Recipient[]): Promise<void> {
    await upsertRecipients(manager, recipients);
  }
}
