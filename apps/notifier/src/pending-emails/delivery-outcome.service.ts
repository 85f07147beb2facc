import type { DataSource } from 'typeorm';
import { processOnce } from '@idm/persistence';
import type { Delivery } from './email-flag.service.js';
import { evolvePendingEmail, type DeliveryEvent, type PendingEmailChange } from './pending-email.evolve.js';
import type { PendingEmailRepository } from './pending-email.repository.js';

/**
 * Applies the notifier's own `EmailSent` / `EmailFailed` / `EmailAbandoned` to `pending_email`,
 * once per event (inbox), in one transaction. This — not the send — is where a flag is cleared.
 */
export class DeliveryOutcomeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly pendingEmails: PendingEmailRepository,
  ) {}

  async apply(event: DeliveryEvent, delivery: Delivery): Promise<PendingEmailChange | 'duplicate'> {
    const outcome = await processOnce(this.dataSource, delivery.consumer, event.id, delivery.streamSequence, async (manager) => {
      const change = evolvePendingEmail(await this.pendingEmails.find(manager, event.data.userId, event.data.emailType), event);
      if (change.kind === 'delete') await this.pendingEmails.delete(manager, event.data.userId, event.data.emailType);
      if (change.kind === 'save') await this.pendingEmails.save(manager, change.pending);
      return change;
    });
    return outcome.duplicate ? 'duplicate' : outcome.result;
  }
}
