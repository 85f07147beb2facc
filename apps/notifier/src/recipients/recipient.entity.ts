import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintColumn } from '@idm/persistence';

/** Row of `recipient`: the notifier's copy of a user's address and display name. */
@Entity({ name: 'recipient' })
export class RecipientEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 256 })
  userId!: string;

  /** Null while the directory account has no mail address yet. */
  @Column({ name: 'email', type: 'varchar', length: 320, nullable: true })
  email!: string | null;

  @Column({ name: 'display_name', type: 'varchar', length: 512, nullable: true })
  displayName!: string | null;

  /** Stream sequence of the last applied user event. */
  @Column(bigintColumn({ name: 'updated_seq' }))
  updatedSeq!: number;
}
