import { In, type DataSource } from 'typeorm';
import { runInTransaction } from '@idm/persistence';
import type { Checkpoint } from '../changes/poll-plan.js';
import type { SnapshotRow } from '../changes/snapshot.decider.js';
import type { ReportedValues } from '../changes/source-entry.js';
import { DirectoryUserEntity, SourceCheckpointEntity } from './snapshot.entity.js';

const CHECKPOINT = 'directory';
/** Rows per multi-row statement: 5 parameters each stays far below SQLite's variable limit. */
const WRITE_CHUNK = 500;
const LOOKUP_CHUNK = 500;
const UPDATE_SET = 'entry_id = excluded.entry_id, stamp = excluded.stamp, hash = excluded.hash, reported = excluded.reported';

function toRow(e: DirectoryUserEntity): SnapshotRow {
  return { userId: e.userId, entryId: e.entryId, stamp: e.stamp, hash: e.hash, values: JSON.parse(e.reported) as ReportedValues };
}

/** Reads and writes the snapshot and the checkpoint. */
export class SnapshotRepository {
  constructor(private readonly dataSource: DataSource) {}

  async checkpoint(): Promise<Checkpoint | undefined> {
    const row = await this.dataSource.getRepository(SourceCheckpointEntity).findOneBy({ name: CHECKPOINT });
    return row ? (JSON.parse(row.value) as Checkpoint) : undefined;
  }

  /** The whole snapshot, by user id (full scans). */
  async all(): Promise<Map<string, SnapshotRow>> {
    const out = new Map<string, SnapshotRow>();
    for (const e of await this.dataSource.getRepository(DirectoryUserEntity).find()) out.set(e.userId, toRow(e));
    return out;
  }

  /** The rows of these users, and the rows holding these entry ids (renames), in chunks. */
  async some(
    userIds: readonly string[],
    entryIds: readonly string[],
  ): Promise<{ byUser: Map<string, SnapshotRow>; byEntry: Map<string, SnapshotRow> }> {
    const byUser = new Map<string, SnapshotRow>();
    const byEntry = new Map<string, SnapshotRow>();
    const repo = this.dataSource.getRepository(DirectoryUserEntity);
    const add = (rows: DirectoryUserEntity[]) => {
      for (const e of rows) {
        const row = toRow(e);
        byUser.set(row.userId, row);
        byEntry.set(row.entryId, row);
      }
    };
    for (let i = 0; i < userIds.length; i += LOOKUP_CHUNK) add(await repo.findBy({ userId: In(userIds.slice(i, i + LOOKUP_CHUNK)) }));
    for (let i = 0; i < entryIds.length; i += LOOKUP_CHUNK) add(await repo.findBy({ entryId: In(entryIds.slice(i, i + LOOKUP_CHUNK)) }));
    return { byUser, byEntry };
  }

  /** How many users the snapshot holds. */
  count(): Promise<number> {
    return this.dataSource.getRepository(DirectoryUserEntity).count();
  }

  /** When the last poll committed (the checkpoint's write time); undefined before the first. */
  async lastCommittedAt(): Promise<Date | undefined> {
    const row = await this.dataSource.getRepository(SourceCheckpointEntity).findOneBy({ name: CHECKPOINT });
    return row?.updatedAt;
  }

  /**
   * Applies one poll: deletes, upserts and the new checkpoint in one transaction, so a crash
   * leaves the previous poll's state whole and the poll is simply repeated.
   */
  async commit(upserts: readonly SnapshotRow[], deletes: readonly string[], checkpoint: Checkpoint, now: Date): Promise<void> {
    await runInTransaction(this.dataSource, async (m) => {
      for (let i = 0; i < deletes.length; i += LOOKUP_CHUNK)
        await m.getRepository(DirectoryUserEntity).delete({ userId: In(deletes.slice(i, i + LOOKUP_CHUNK)) });
      // Raw multi-row upserts: for a 100 000-user baseline, building TypeORM statements cost more than the writes.
      const postgres = m.connection.options.type === 'postgres';
      for (let i = 0; i < upserts.length; i += WRITE_CHUNK) {
        const chunk = upserts.slice(i, i + WRITE_CHUNK);
        if (postgres) {
          await m.query(
            `INSERT INTO directory_user (user_id, entry_id, stamp, hash, reported)
             SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::text[])
             ON CONFLICT (user_id) DO UPDATE SET ${UPDATE_SET}`,
            [
              chunk.map((r) => r.userId),
              chunk.map((r) => r.entryId),
              chunk.map((r) => r.stamp),
              chunk.map((r) => r.hash),
              chunk.map((r) => JSON.stringify(r.values)),
            ],
          );
        } else {
          await m.query(
            `INSERT INTO directory_user (user_id, entry_id, stamp, hash, reported) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}
             ON CONFLICT (user_id) DO UPDATE SET ${UPDATE_SET}`,
            chunk.flatMap((r) => [r.userId, r.entryId, r.stamp, r.hash, JSON.stringify(r.values)]),
          );
        }
      }
      await m.getRepository(SourceCheckpointEntity).save({ name: CHECKPOINT, value: JSON.stringify(checkpoint), updatedAt: now });
    });
  }
}
