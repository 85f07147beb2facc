import { In, type DataSource, type EntityManager } from 'typeorm';
import type { Recipient } from './recipient.decider.js';
import { RecipientEntity } from './recipient.entity.js';

type Target = DataSource | EntityManager;

const LOOKUP_CHUNK = 500;

function toRecipient(row: RecipientEntity): Recipient {
  return { userId: row.userId, email: row.email, displayName: row.displayName, updatedSeq: row.updatedSeq };
}

/** Reads and writes `recipient`. */
export class RecipientRepository {
  async find(target: Target, userId: string): Promise<Recipient | undefined> {
    const row = await target.getRepository(RecipientEntity).findOneBy({ userId });
    return row ? toRecipient(row) : undefined;
  }

  /** Recipients of many users, by user id; looked up in chunks so a 10 000-email tick stays a few queries. */
  async findMany(target: Target, userIds: readonly string[]): Promise<Map<string, Recipient>> {
    const out = new Map<string, Recipient>();
    const unique = [...new Set(userIds)];
    for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
      const rows = await target.getRepository(RecipientEntity).findBy({ userId: In(unique.slice(i, i + LOOKUP_CHUNK)) });
      for (const row of rows) out.set(row.userId, toRecipient(row));
    }
    return out;
  }

  /** Forgets a user (UserRemoved); call inside the handler's transaction. */
  async delete(manager: EntityManager, userId: string): Promise<void> {
    await manager.getRepository(RecipientEntity).delete({ userId });
  }

  /** Inserts or replaces many in one statement per chunk (group commit); call inside the transaction. */
  async saveMany(manager: EntityManager, recipients: readonly Recipient[]): Promise<void> {
    // Sorted: two transactions upserting overlapping users lock their rows in one order (Postgres).
    const sorted = [...recipients].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    for (let i = 0; i < sorted.length; i += LOOKUP_CHUNK) {
      await manager.getRepository(RecipientEntity).upsert(
        sorted.slice(i, i + LOOKUP_CHUNK).map((r) => ({ ...r })),
        ['userId'],
      );
    }
  }

  /** Inserts or replaces; call inside the handler's transaction. */
  async save(manager: EntityManager, recipient: Recipient): Promise<void> {
    await manager.getRepository(RecipientEntity).save({ ...recipient });
  }
}
