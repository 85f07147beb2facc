import type { DataSource } from 'typeorm';
import type { IdmEvent } from '@idm/contracts';
import { Outbox, OutboxRelay } from '@idm/persistence';

/** The app's outbox for a spec: group commit as in the app, and a relay the spec drains when it wants to look. */
export interface SpecOutbox {
  readonly outbox: Outbox<IdmEvent>;
  /** Publishes every outbox row through `publish` (the spec's stand-in for the stream); returns how many. */
  flush(): Promise<number>;
}

/**
 * An {@link Outbox} with group commit over `dataSource`, and its relay publishing through
 * `publish` only when the spec calls `flush()`: what a spec sees published is then exactly what
 * committed, never a publish racing with the assertion.
 */
export function specOutbox(dataSource: DataSource, publish: (event: IdmEvent) => Promise<unknown> = () => Promise.resolve()): SpecOutbox {
  const relay = new OutboxRelay<IdmEvent>(dataSource, { publish });
  return { outbox: new Outbox<IdmEvent>(dataSource, { groupCommit: {} }), flush: () => relay.drainOnce() };
}
