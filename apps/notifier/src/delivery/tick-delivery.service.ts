import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { IdmEventOf } from '@idm/contracts';
import type { Clock } from '../clock.js';
import type { PendingEmail } from '../pending-emails/pending-email.js';
import type { PendingEmailRepository } from '../pending-emails/pending-email.repository.js';
import type { Recipient } from '../recipients/recipient.decider.js';
import type { RecipientRepository } from '../recipients/recipient.repository.js';
import { emailValues } from '../templates/email-values.js';
import { renderTemplate } from '../templates/template-renderer.js';
import type { TemplateSet } from '../templates/template-store.js';
import { forEachBounded } from './bounded-concurrency.js';
import { decideDelivery, planDelivery, type DeliveryContext, type DeliveryLimits, type SendOutcome } from './delivery.decider.js';
import type { EventSink } from '../event-sink.js';
import type { MailTransport } from './mail-transport.js';
import { messageIdFor } from './smtp-settings.js';

/** Tuning of a tick run. */
export interface TickDeliverySettings {
  readonly limits: DeliveryLimits;
  /** Emails in flight at once; match the SMTP pool size. */
  readonly sendConcurrency: number;
  /** After this long without renewal a claim is considered dead and may be taken over. */
  readonly claimTtlMs: number;
  /** `MAIL_FROM`; its domain is used in the Message-IDs. */
  readonly from: string;
  /** CloudEvents source of the appended events. */
  readonly source: string;
}

/** What one tick did. */
export interface TickReport {
  readonly claimed: number;
  readonly sent: number;
  readonly failed: number;
  readonly abandoned: number;
  /** Emails whose claim was lost to another run before sending. */
  readonly skipped: number;
}

/** Collaborators of {@link TickDeliveryService}. */
export interface TickDeliveryPorts {
  readonly dataSource: DataSource;
  readonly pendingEmails: PendingEmailRepository;
  readonly recipients: RecipientRepository;
  readonly transport: MailTransport;
  readonly templates: TemplateSet;
  readonly sink: EventSink;
  readonly clock: Clock;
}

/**
 * Works one `RetryEmailNotifications` tick: claims every pending email that no live run holds
 * (the recipe's bulk-task indicator, set in the database), then sends them with bounded
 * concurrency, appending `EmailSent` / `EmailFailed` / `EmailAbandoned` per email.
 *
 * It changes no flag itself: flags are cleared when those events are applied. At-least-once: if
 * the process dies after the server accepted an email but before `EmailSent` is stored, the
 * claim expires and a later tick sends it again, with the same Message-ID.
 * @throws the first error of the event sink (after the sends in flight settle), so the tick is retried.
 */
export class TickDeliveryService {
  constructor(
    private readonly ports: TickDeliveryPorts,
    private readonly settings: TickDeliverySettings,
  ) {}

  async deliver(tick: IdmEventOf<'idm.bulk-task.tick'>, onProgress: () => void = () => undefined): Promise<TickReport> {
    const { dataSource, pendingEmails, recipients, clock } = this.ports;
    const token = randomUUID();
    const now = clock.now();
    await pendingEmails.claim(dataSource, { tickId: tick.id, token, now, expiredBefore: new Date(now.getTime() - this.settings.claimTtlMs) });
    const claimed = await pendingEmails.claimed(dataSource, token);
    const directory = await recipients.findMany(dataSource, claimed.map((p) => p.userId));
    const counts = { claimed: claimed.length, sent: 0, failed: 0, abandoned: 0, skipped: 0 };
    await forEachBounded(claimed, this.settings.sendConcurrency, async (pending) => {
      const outcome = await this.deliverOne(tick, token, pending, directory.get(pending.userId));
      counts[outcome] += 1;
      onProgress();
    });
    return counts;
  }

  private async deliverOne(tick: IdmEventOf<'idm.bulk-task.tick'>, token: string, pending: PendingEmail, recipient: Recipient | undefined): Promise<'sent' | 'failed' | 'abandoned' | 'skipped'> {
    const now = this.ports.clock.now();
    const ctx: DeliveryContext = { tick, now, limits: this.settings.limits, source: this.settings.source };
    const plan = planDelivery(pending, ctx);
    if (plan.kind === 'abandon') {
      await this.ports.sink.publish(plan.events);
      return 'abandoned';
    }
    if (!(await this.ports.pendingEmails.renewClaim(this.ports.dataSource, pending, token, now))) return 'skipped';
    const outcome = await this.send(pending, recipient);
    const events = decideDelivery(pending, plan.attempt, outcome, ctx);
    await this.ports.sink.publish(events);
    if (events.length === 2) return 'abandoned';
    return events[0].type === 'idm.email.sent' ? 'sent' : 'failed';
  }

  private async send(pending: PendingEmail, recipient: Recipient | undefined): Promise<SendOutcome> {
    // No address yet: user events may still be on their way; retried until the limits give up.
    if (!recipient) return { ok: false, permanent: false, error: 'no email address known for the user yet' };
    const template = this.ports.templates.get(pending.emailType);
    // Only possible when a rule was removed while its emails were pending: nothing will ever render it.
    if (!template) return { ok: false, permanent: true, error: `no template for email type ${pending.emailType}` };
    const rendered = renderTemplate(template, emailValues(recipient, pending));
    const result = await this.ports.transport.send({ to: recipient.email, ...rendered, messageId: messageIdFor(pending.queuedEventId, this.settings.from) });
    return result.ok ? { ok: true, messageId: result.messageId } : { ok: false, permanent: result.failure.permanent, error: result.failure.message };
  }
}
