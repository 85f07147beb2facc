import type { DataSource } from 'typeorm';
import type { IdmEvent, IdmEventOf } from '@idm/contracts';
import type { EntityManager } from 'typeorm';
import { processOnce } from '@idm/persistence';
import type { Clock } from '@idm/config';
import { emailTypesFor, type EmailRules } from '../email-rules/email-rules.config.js';
import type { EventSink } from '../event-sink.js';
import { evolveRecipient } from '../recipients/recipient.decider.js';
import type { RecipientRepository } from '../recipients/recipient.repository.js';
import { decideEmailFlags, queuedEventIdFor, queuedEventOf } from './email-flag.decider.js';
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
  readonly dataSource: DataSource;
  readonly recipients: RecipientRepository;
  readonly pendingEmails: PendingEmailRepository;
  readonly sink: EventSink;
  readonly clock: Clock;
  readonly rules: EmailRules;
  readonly source: string;
}

/**
 * The shell around the recipient and flag deciders: inbox skip → load → decide → save recipient,
 * flags and inbox row in one transaction → publish `EmailQueued`.
 */
export class EmailFlagService {
  constructor(private readonly ports: EmailFlagPorts) {}

  async handle(event: IdmEvent, delivery: Delivery): Promise<readonly IdmEvent[]> {
    if (event.type === 'idm.user.removed') return this.handleRemoval(event, delivery);
    const { dataSource, recipients, pendingEmails, clock, rules, source } = this.ports;
    const outcome = await processOnce(dataSource, delivery.consumer, event.id, delivery.streamSequence, async (manager) => {
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
    });
    const events = outcome.duplicate ? await this.stillPendingFrom(event) : outcome.result;
    await this.ports.sink.publish(events);
    return events;
  }

  /**
   * `UserRemoved`: the recipient is deleted in the transaction; the pending emails are abandoned by
   * the `EmailAbandoned` events, whose application clears the flags (one place clears flags). On an
   * inbox hit the abandons are rebuilt from the flags still present (same ids; JetStream drops
   * those that did get out).
   */
  private async handleRemoval(event: IdmEventOf<'idm.user.removed'>, delivery: Delivery): Promise<readonly IdmEvent[]> {
    const { dataSource, recipients, clock, source } = this.ports;
    const outcome = await processOnce(dataSource, delivery.consumer, event.id, delivery.streamSequence, async (manager) => {
      const decision = decideUserRemoval(event, await this.pendingOf(manager, event.subject), { now: clock.now(), source });
      if (decision.forgetRecipient) await recipients.delete(manager, event.subject);
      return decision.events;
    });
    const events = outcome.duplicate
      ? decideUserRemoval(event, await this.pendingOf(dataSource, event.subject), { now: clock.now(), source }).events
      : outcome.result;
    await this.ports.sink.publish(events);
    return events;
  }

  private async pendingOf(target: DataSource | EntityManager, userId: string): Promise<PendingEmail[]> {
    const out: PendingEmail[] = [];
    for (const emailType of await this.ports.pendingEmails.typesFor(target, userId)) {
      const pending = await this.ports.pendingEmails.find(target, userId, emailType);
      if (pending) out.push(pending);
    }
    return out;
  }

  /**
   * After a crash between commit and publish the redelivery is an inbox hit: rebuild the
   * `EmailQueued` events of this cause from the rows it stored, so they still reach the stream
   * (identical ids; JetStream drops them if the first publish did get through).
   */
  private async stillPendingFrom(cause: IdmEvent): Promise<IdmEventOf<'idm.email.queued'>[]> {
    const out: IdmEventOf<'idm.email.queued'>[] = [];
    for (const emailType of emailTypesFor(this.ports.rules, cause.type)) {
      const pending = await this.ports.pendingEmails.find(this.ports.dataSource, cause.subject, emailType);
      if (pending && pending.queuedEventId === queuedEventIdFor(cause, emailType))
        out.push(queuedEventOf(cause, pending, this.ports.source));
    }
    return out;
  }
}
