import type { OnceKey, OnceResult, Outbox } from '@idm/persistence';
import type { IdmEvent } from '@idm/contracts';
import type { EntityManager } from 'typeorm';
import type { Delivery } from '../pending-emails/email-flag.service.js';
import { clearsFlag, evolvePendingEmail, type DeliveryEvent, type PendingEmailChange } from '../pending-emails/pending-email.evolve.js';
import { pendingKeyOf, type PendingEmailRepository } from '../pending-emails/pending-email.repository.js';

/** What applying one event came to. */
export type AppliedOutcome = PendingEmailChange | 'duplicate';

/**
 * Applies the notifier's own `EmailSent` / `EmailFailed` / `EmailAbandoned` to `pending_email`,
 * once per event (inbox row in the same transaction as the change). This — not the send — is
 * where a flag is cleared.
 *
 * Outcomes arrive one by one at the send rate; the app's {@link Outbox} commits those that arrive
 * together in one transaction (group commit), and hands them to this service together
 * ({@link Outbox.batched}): the flags a batch clears go in one DELETE rather than one statement
 * per email, which was most of a drained tick's database work. Each delivery is still acked only
 * after the commit that holds its change.
 */
export class DeliveryOutcomeService {
  private readonly submit: (key: OnceKey, event: DeliveryEvent) => Promise<OnceResult<PendingEmailChange>>;

  constructor(
    outbox: Outbox<IdmEvent>,
    private readonly pendingEmails: PendingEmailRepository,
  ) {
    this.submit = outbox.batched((unit, events: readonly DeliveryEvent[]) => this.changeAll(unit.manager, events));
  }

  async apply(event: DeliveryEvent, delivery: Delivery): Promise<AppliedOutcome> {
    const key = { consumer: delivery.consumer, eventId: event.id, streamSeq: delivery.streamSequence, lockKey: event.data.userId };
    const outcome = await this.submit(key, event);
    return outcome.duplicate ? 'duplicate' : outcome.result;
  }

  /**
   * The batch's changes in its order: each run of flag-clearing events is one DELETE; an
   * `EmailFailed` in between (read, evolve, save) ends the run, so a key's events apply in order.
   */
  private async changeAll(manager: EntityManager, events: readonly DeliveryEvent[]): Promise<PendingEmailChange[]> {
    const changes: PendingEmailChange[] = [];
    let clearing: DeliveryEvent[] = [];
    const clear = async (): Promise<void> => {
      if (clearing.length === 0) return;
      // Sent / abandoned clear the flag whatever the row holds: no read of the rows' state first.
      const deleted = await this.pendingEmails.deleteMany(
        manager,
        clearing.map((e) => e.data),
      );
      // A key cleared twice in one run (redelivered under a new id) deleted its row once.
      for (const { data } of clearing)
        changes.push(deleted.delete(pendingKeyOf(data)) ? { kind: 'delete' } : { kind: 'ignore', reason: 'not-pending' });
      clearing = [];
    };
    for (const event of events) {
      if (clearsFlag(event)) {
        clearing.push(event);
        continue;
      }
      await clear();
      changes.push(await this.changeOne(manager, event));
    }
    await clear();
    return changes;
  }

  private async changeOne(manager: EntityManager, event: DeliveryEvent): Promise<PendingEmailChange> {
    const { userId, emailType } = event.data;
    const change = evolvePendingEmail(await this.pendingEmails.find(manager, userId, emailType), event);
    if (change.kind === 'delete') await this.pendingEmails.delete(manager, userId, emailType);
    if (change.kind === 'save') await this.pendingEmails.save(manager, change.pending);
    return change;
  }
}
