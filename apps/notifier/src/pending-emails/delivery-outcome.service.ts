import type { DataSource, EntityManager } from 'typeorm';
import { Inbox, processOnce, runInTransaction } from '@idm/persistence';
import type { Delivery } from './email-flag.service.js';
import { clearsFlag, evolvePendingEmail, type DeliveryEvent, type PendingEmailChange } from './pending-email.evolve.js';
import type { PendingEmailRepository } from './pending-email.repository.js';

/** Most events committed together in one transaction. */
const MAX_BATCH = 64;
/**
 * How long the first event of a batch waits for others before its transaction starts. Outcomes
 * arrive one by one at the send rate; without a short wait most batches would hold one event.
 * A SQLite commit syncs to disk (~3 ms, blocking the event loop), so ~10 ms of latency on
 * clearing a flag buys several events per commit.
 */
const LINGER_MS = 10;

/** What applying one event came to. */
export type AppliedOutcome = PendingEmailChange | 'duplicate';

interface Waiting {
  readonly event: DeliveryEvent;
  readonly delivery: Delivery;
  readonly resolve: (outcome: AppliedOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Applies the notifier's own `EmailSent` / `EmailFailed` / `EmailAbandoned` to `pending_email`,
 * once per event (inbox row written in the same transaction as the change). This — not the send —
 * is where a flag is cleared.
 *
 * Group commit: events that arrive while a transaction is committing (the transport handles up to
 * its concurrency at once, one per user) are applied together in the next transaction, so a
 * drained tick costs one commit per batch instead of one per email (on SQLite each commit is a
 * disk sync). Every event still gets its own inbox row in the same transaction as its change, and
 * `apply` resolves only after that transaction committed, so the delivery is acked after its
 * effect is durable. If a batch fails, each of its events is retried in its own transaction, so
 * one bad event fails (and is retried or dead-lettered) alone.
 */
export class DeliveryOutcomeService {
  private readonly waiting: Waiting[] = [];
  private committing = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly pendingEmails: PendingEmailRepository,
  ) {}

  apply(event: DeliveryEvent, delivery: Delivery): Promise<AppliedOutcome> {
    return new Promise<AppliedOutcome>((resolve, reject) => {
      this.waiting.push({ event, delivery, resolve, reject });
      if (!this.committing) void this.commitWaiting();
    });
  }

  private async commitWaiting(): Promise<void> {
    this.committing = true;
    try {
      if (this.waiting.length < MAX_BATCH) await new Promise<void>((resolve) => setTimeout(resolve, LINGER_MS));
      while (this.waiting.length > 0) await this.commitBatch(this.waiting.splice(0, MAX_BATCH));
    } finally {
      this.committing = false;
    }
  }

  /** Settles every event of the batch; never rejects. */
  private async commitBatch(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) return this.commitAlone(batch[0]!);
    // One lock order for every batch, so two replicas' batches cannot deadlock each other on Postgres.
    batch.sort((a, b) => compareKeys(a.event, b.event));
    let outcomes: AppliedOutcome[];
    try {
      outcomes = await runInTransaction(this.dataSource, async (manager) => {
        const out: AppliedOutcome[] = [];
        for (const w of batch) {
          out.push(
            (await Inbox.record(manager, w.delivery.consumer, w.event.id, w.delivery.streamSequence))
              ? await this.change(manager, w.event)
              : 'duplicate',
          );
        }
        return out;
      });
    } catch {
      for (const w of batch) await this.commitAlone(w);
      return;
    }
    batch.forEach((w, i) => w.resolve(outcomes[i]!));
  }

  private async commitAlone(w: Waiting): Promise<void> {
    try {
      const outcome = await processOnce(this.dataSource, w.delivery.consumer, w.event.id, w.delivery.streamSequence, (manager) =>
        this.change(manager, w.event),
      );
      w.resolve(outcome.duplicate ? 'duplicate' : outcome.result);
    } catch (error) {
      w.reject(error);
    }
  }

  private async change(manager: EntityManager, event: DeliveryEvent): Promise<PendingEmailChange> {
    const { userId, emailType } = event.data;
    // Sent / abandoned clear the flag whatever the row holds: one DELETE, no read first.
    if (clearsFlag(event))
      return (await this.pendingEmails.delete(manager, userId, emailType)) ? { kind: 'delete' } : { kind: 'ignore', reason: 'not-pending' };
    const change = evolvePendingEmail(await this.pendingEmails.find(manager, userId, emailType), event);
    if (change.kind === 'delete') await this.pendingEmails.delete(manager, userId, emailType);
    if (change.kind === 'save') await this.pendingEmails.save(manager, change.pending);
    return change;
  }
}

function compareKeys(a: DeliveryEvent, b: DeliveryEvent): number {
  return a.data.userId < b.data.userId
    ? -1
    : a.data.userId > b.data.userId
      ? 1
      : a.data.emailType < b.data.emailType
        ? -1
        : a.data.emailType > b.data.emailType
          ? 1
          : 0;
}
