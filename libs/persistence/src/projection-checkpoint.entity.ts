import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintColumn, timestampColumn } from './portable-columns.js';

/** The last stream sequence a projection has applied; only ever moves forward. */
@Entity({ name: 'projection_checkpoint' })
export class ProjectionCheckpoint {
  /** Projection name, unique within the app. */
  @PrimaryColumn({ name: 'projection', type: 'varchar', length: 200 })
  projection!: string;

  /** Highest stream sequence applied. */
  @Column(bigintColumn({ name: 'last_seq' }))
  lastSeq!: number;

  /** When the checkpoint last moved. */
  @Column(timestampColumn({ name: 'updated_at' }))
  updatedAt!: Date;
}
