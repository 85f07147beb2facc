import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestampColumn } from '@idm/persistence';

/** Row of `directory_user`: what the source last reported about one user. */
@Entity({ name: 'directory_user' })
export class DirectoryUserEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 256 })
  userId!: string;

  /** `entryUUID` / `objectGUID`. */
  @Index('IDX_directory_user_entry_id')
  @Column({ name: 'entry_id', type: 'varchar', length: 64 })
  entryId!: string;

  /** `entryCSN` / `uSNChanged` of the last version handled. */
  @Column({ name: 'stamp', type: 'varchar', length: 128 })
  stamp!: string;

  /** SHA-256 (hex) of the reported values. */
  @Column({ name: 'hash', type: 'varchar', length: 64 })
  hash!: string;

  /** The reported values (JSON), to name what changed. */
  @Column({ name: 'reported', type: 'text' })
  reported!: string;
}

/** Row of `source_checkpoint`: where the last successful poll stopped (JSON, see `Checkpoint`). */
@Entity({ name: 'source_checkpoint' })
export class SourceCheckpointEntity {
  @PrimaryColumn({ name: 'name', type: 'varchar', length: 64 })
  name!: string;

  @Column({ name: 'value', type: 'text' })
  value!: string;

  @Column(timestampColumn({ name: 'updated_at' }))
  updatedAt!: Date;
}
