import type { IdmEvent, IdmEventOf } from '@idm/contracts';
import type { EntityManager } from 'typeorm';
import type { Outbox } from '@idm/persistence';
import type { Clock } from '../clock.js';
import type { EmailRules } from '../email-rules/email-rules.config.js';
import { evolveRecipient } from '../recipients/recipient.decider.js';
import type { RecipientRepository } from '../recipients/recipient.repository.js';
import { decideEmailFlags } from './email-flag.decider.js';
import type { PendingEmail } from './pending-email.js';
import type { PendingEmailRepository } from './pending-email.repository.js';
import { decideUserRemoval } from './user-removal.decider.js';

/** Where a delivery came from, for the inbox and stale-event checks. */
export interface Delivery {
  readonly consumer: string;
  readonly streamSequence: number;
}

/** Collaborators of {@link EmailFlagService}. */
export interface EmailFlagPorts {
  /** The app's exactly-once primitive (group commit); its relay publishes what is emitted here. */
  readonly outbox: Outbox<IdmEvent>;
  readonly recipients: RecipientRepository;
  readonly pendingEmails: PendingEmailRepository;
  readonly clock: Clock;
  readonly rules: EmailRules;
  readonly source: string;
}

/**
 * The shell around the recipient, flag and removal deciders: inbox skip → load → decide → save
 * recipient, flags, inbox row and the `EmailQueued` / `EmailAbandoned` outbox rows in one
 * transaction (shared with the other deliveries committing at the same moment) → the relay
 * publishes them. A redelivery after a crash is an inbox hit and does nothing: whatever it emitted
 * is already in the outbox or in the stream.
 */
export class EmailFlagService {
  constructor(private readonly ports: EmailFlagPorts) {}

  /** Resolves after the commit with the events emitted (none for a duplicate); throws to be retried. */
  async handle(event: IdmEvent, delivery: Delivery): Promise<readonly IdmEvent[]> {
    const key = { consumer: delivery.consumer, eventId: event.id, streamSeq: delivery.streamSequence, lockKey: event.subject };
    const outcome = await this.ports.outbox.once(key, async ({ manager, emit }) => {
      const events = event.type === 'idm.user.removed' ? await this.removal(manager, event) : await this.flags(manager, event, delivery);
      emit(events);
      return events;
    });
    return outcome.duplicate ? [] : outcome.result;
  }

  private async flags(manager: EntityManager, event: IdmEvent, delivery: Delivery): Promise<readonly IdmEvent[]> {
    const { recipients, pendingEmails, clock, rules, source } = this.ports;
    if (event.type === 'idm.user.added' || event.type === 'idm.user.modified') {
      const decision = evolveRecipient(await recipients.find(manager, event.subject), event, delivery.streamSequence);
      if (decision.kind === 'save') await recipients.save(manager, decision.recipient);
    }
    const decision = decideEmailFlags(event, {
      rules,
      pendingTypes: await pendingEmails.typesFor(manager, event.subject),
      now: clock.now(),
      source,
    });
    if (decision.kind === 'ignore') return [];
    for (const email of decision.emails) await pendingEmails.save(manager, email.pending);
    return decision.emails.map((e) => e.event);
  }

  /**
   * `UserRemoved`: the recipient is deleted in the transaction; the pending emails are abandoned by
   * the `EmailAbandoned` events, whose application clears the flags (one place clears flags).
   */
  private async removal(manager: EntityManager, event: IdmEventOf<'idm.user.removed'>): Promise<readonly IdmEvent[]> {
    const { recipients, clock, source } = this.ports;
    const decision = decideUserRemoval(event, await this.pendingOf(manager, event.subject), { now: clock.now(), source });
    if (decision.forgetRecipient) await recipients.delete(manager, event.subject);
    return decision.events;
  }

  private async pendingOf(manager: EntityManager, userId: string): Promise<PendingEmail[]> {
    const out: PendingEmail[] = [];
    for (const emailType of await this.ports.pendingEmails.typesFor(manager, userId)) {
      const pending = await this.ports.pendingEmails.find(manager, userId, emailType);
      if (pending) out.push(pending);
    }
    return out;
  }
}
