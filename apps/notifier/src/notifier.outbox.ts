import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { IdmEvent } from '@idm/contracts';
import type { EventPublisher } from '@idm/messaging';
import { logOutboxRelayReports, Outbox, OutboxRelay } from '@idm/persistence';
import type { DataSource } from 'typeorm';

/** Deliveries committed together (group commit). */
const MAX_BATCH = 256;

/**
 * Deliveries of the notifier's user-event consumer in flight at once: two full batches, so one
 * fills while the other commits. With the transport's default of 32 a batch could never hold more
 * than ~30 units, and each commit (an fsync on SQLite, round trips on Postgres) carried only those.
 * Each delivery is still acked alone, after the commit that holds it.
 */
export const INGEST_WINDOW = 2 * MAX_BATCH;
/**
 * How long the first unit of a batch waits for others. Short: units arriving during a commit
 * already share the next one; this only helps the first commit after a quiet spell.
 */
const LINGER_MS = 2;

/**
 * Group-committed transactions at once on Postgres (of a pool of 10): a transaction there is
 * mostly round trips, so while one waits for the server the next batch can be on its way.
 */
const POSTGRES_PARALLEL = 4;

/**
 * The relay publishing the notifier's outbox rows through the app's publisher (`Nats-Msg-Id` =
 * event id); failed rounds are retried with backoff and logged at a bounded rate.
 */
export function createNotifierRelay(dataSource: DataSource, publisher: EventPublisher): OutboxRelay<IdmEvent> {
  return new OutboxRelay<IdmEvent>(dataSource, publisher, { onReport: logOutboxRelayReports(new Logger('OutboxRelay')) });
}

/**
 * The notifier's exactly-once primitive, with group commit; every commit with events wakes the
 * relay, and every commit carries the relay's deletes of the rows the stream acknowledged.
 */
export function createNotifierOutbox(dataSource: DataSource, relay: OutboxRelay<IdmEvent>): Outbox<IdmEvent> {
  const parallel = dataSource.options.type === 'postgres' ? POSTGRES_PARALLEL : 1;
  const outbox = new Outbox<IdmEvent>(dataSource, { groupCommit: { maxBatch: MAX_BATCH, lingerMs: LINGER_MS, parallel } });
  outbox.onCommitted(() => relay.wake());
  outbox.carry(relay);
  return outbox;
}

/** How long the first outcome of a commit waits for others: outcomes do not hold up a delivery, only the tick's end. */
const OUTCOME_LINGER_MS = 5;

/**
 * Outcome transactions at once on SQLite. Two, not one: while one commits, the next batch is built
 * and waits for the transaction gate, instead of the lanes' outcomes piling up behind a single
 * lane. Measured on a quiet machine, 10,000 emails at 32 connections, two runs each: SQLite 779 and
 * 756/s with one lane, 932 and 879/s with two; Postgres unchanged (859/836 vs 858/843/s). More
 * lanes split the outcomes into ever smaller commits (the ingest's four cost 1.96 ms per email).
 */
const OUTCOME_PARALLEL = 2;

/**
 * On Postgres one: a second transaction there only halved each commit's batch. With one, three
 * alternating pairs (10,000 emails, 32 connections, load 9-17): Postgres backends 0.16/0.19/0.16
 * -> 0.14/0.10/0.11 ms per email, the notifier's CPU unchanged within the noise (0.82/0.97/0.80 ->
 * 0.95/0.65/0.69 ms; the SQLite rows, whose code was the same in both, moved as much).
 */
const OUTCOME_PARALLEL_POSTGRES = 1;

/**
 * The outbox of the tick's outcomes: the same table, relay and guarantees as the app's, tuned for
 * outcomes, which finish one by one at the send rate. At most {@link OUTCOME_PARALLEL} transactions
 * at a time on SQLite, {@link OUTCOME_PARALLEL_POSTGRES} on Postgres, so outcomes finishing during
 * a commit share the next one: with the ingest's four parallel lanes (Postgres) each outcome got a
 * transaction of its own, and each commit a relay round.
 */
export function createOutcomeOutbox(dataSource: DataSource, relay: OutboxRelay<IdmEvent>): Outbox<IdmEvent> {
  const outbox = new Outbox<IdmEvent>(dataSource, {
    groupCommit: {
      maxBatch: MAX_BATCH,
      lingerMs: OUTCOME_LINGER_MS,
      parallel: dataSource.options.type === 'postgres' ? OUTCOME_PARALLEL_POSTGRES : OUTCOME_PARALLEL,
    },
  });
  outbox.onCommitted(() => relay.wake());
  outbox.carry(relay);
  return outbox;
}

/** Starts the relay when the app starts: it first publishes what a crash left in the outbox. */
@Injectable()
export class OutboxRelayStarter implements OnApplicationBootstrap {
  constructor(@Inject(OutboxRelay) private readonly relay: OutboxRelay<IdmEvent>) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }
}
