import type { Outbox } from '@idm/persistence';
import type { IdmEvent } from '@idm/contracts';
import type { EntityManager } from 'typeorm';
import type { Delivery } from '../pending-emails/email-flag.service.js';
import { clearsFlag, evolvePendingEmail, type DeliveryEvent, type PendingEmailChange } from '../pending-emails/pending-email.evolve.js';
import type { PendingEmailRepository } from '../pending-emails/pending-email.repository.js';

/** What applying one event came to. */
export type AppliedOutcome = PendingEmailChange | 'duplicate';

/**
 * Applies the notifier's own `EmailSent` / `EmailFailed` / `EmailAbandoned` to `pending_email`,
 * once per event (inbox row in the same transaction as the change). This — not the send — is
 * where a flag is cleared.
 *
 * Outcomes arrive one by one at the send rate; the app's {@link Outbox} commits those that arrive
 * together in one transaction (group commit), so a drained tick costs one commit per batch rather
 * than one disk sync per email, and each delivery is acked only after its own change committed.
 */
export class DeliveryOutcomeService {
  constructor(
    private readonly outbox: Outbox<IdmEvent>,
    private readonly pendingEmails: PendingEmailRepository,
  ) {}

  async apply(event: DeliveryEvent, delivery: Delivery): Promise<AppliedOutcome> {
    const key = { consumer: delivery.consumer, eventId: event.id, streamSeq: delivery.streamSequence, lockKey: event.data.userId };
    const outcome = await this.outbox.once(key, ({ manager }) => this.change(manager, event));
    return outcome.duplicate ? 'duplicate' : outcome.result;
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
