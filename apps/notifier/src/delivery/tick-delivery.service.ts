import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { IdmEventOf } from '@idm/contracts';
import type { Clock } from '../clock.js';
import type { PendingEmail } from '../pending-emails/pending-email.js';
import type { PendingEmailRepository } from '../pending-emails/pending-email.repository.js';
import { hasAddress, type Recipient } from '../recipients/recipient.decider.js';
import type { RecipientRepository } from '../recipients/recipient.repository.js';
import { emailValues } from '../templates/email-values.js';
import { renderTemplate } from '../templates/template-renderer.js';
import type { TemplateSet } from '../templates/template-store.js';
import { forEachBounded } from './bounded-concurrency.js';
import { decideDelivery, planDelivery, type DeliveryContext, type DeliveryLimits, type SendOutcome } from './delivery.decider.js';
import type { EventSink } from '../event-sink.js';
import type { MailTransport } from './mail-transport.js';
import { PublishWindow } from './publish-window.js';
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

/** Emails a lane takes at once; their claims are renewed together in one UPDATE. */
const MAX_PAGE = 16;
/** Appends of outcome events a lane may leave unacknowledged while it sends on. */
const UNACKED_PER_LANE = 4;
/** A page renewal counts as "right before the send" only this long; after that an email is renewed on its own. */
const MAX_RENEWAL_AGE_MS = 10_000;

/** One tick run, shared by its lanes. */
interface Run {
  readonly tick: IdmEventOf<'idm.bulk-task.tick'>;
  readonly token: string;
  readonly directory: Map<string, Recipient>;
  readonly counts: { claimed: number; sent: number; failed: number; abandoned: number; skipped: number };
  readonly appends: PublishWindow;
  readonly onProgress: () => void;
  /** Set when a lane failed: the other lanes start no further sends. */
  stopped: boolean;
}

/**
 * Works one `RetryEmailNotifications` tick: claims every pending email that no live run holds
 * (the recipe's bulk-task indicator, set in the database), then sends them with bounded
 * concurrency, appending `EmailSent` / `EmailFailed` / `EmailAbandoned` per email.
 *
 * Each lane takes a page of emails and renews their claims in one UPDATE before sending them;
 * an email whose page renewal is older than {@link MAX_RENEWAL_AGE_MS} (slow SMTP), or whose
 * page lost a claim, is renewed on its own right before its send, and skipped if the claim is
 * gone. Outcome events are appended without holding up the next send (at most
 * {@link UNACKED_PER_LANE} per lane unacknowledged); the tick returns only when all are stored.
 *
 * It changes no flag itself: flags are cleared when those events are applied. At-least-once: if
 * the process dies after the server accepted an email but before `EmailSent` is stored, the
 * claim expires and a later tick sends it again, with the same Message-ID.
 * @throws the first error of the event sink (after the sends and appends in flight settle), so the tick is retried.
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
    const lanes = Math.max(1, Math.min(this.settings.sendConcurrency, claimed.length));
    const run: Run = {
      tick,
      token,
      directory,
      counts: { claimed: claimed.length, sent: 0, failed: 0, abandoned: 0, skipped: 0 },
      appends: new PublishWindow(lanes * UNACKED_PER_LANE),
      onProgress,
      stopped: false,
    };
    // Pages small enough that every lane gets work, so a small tick is still sent in parallel.
    const pageSize = Math.max(1, Math.min(MAX_PAGE, Math.ceil(claimed.length / lanes)));
    const pages: PendingEmail[][] = [];
    for (let i = 0; i < claimed.length; i += pageSize) pages.push(claimed.slice(i, i + pageSize));
    let failure: { readonly error: unknown } | undefined;
    try {
      await forEachBounded(pages, lanes, (page) => this.deliverPage(run, page));
    } catch (error) {
      failure = { error };
    }
    await run.appends.drain();
    failure ??= run.appends.failure;
    if (failure) throw failure.error;
    return run.counts;
  }

  private async deliverPage(run: Run, page: readonly PendingEmail[]): Promise<void> {
    try {
      await this.sendPage(run, page);
    } catch (error) {
      run.stopped = true;
      throw error;
    }
  }

  private async sendPage(run: Run, page: readonly PendingEmail[]): Promise<void> {
    const { pendingEmails, dataSource, clock } = this.ports;
    const renewedAt = clock.now();
    const allRenewed = await pendingEmails.renewClaims(dataSource, page, run.token, renewedAt);
    for (const pending of page) {
      if (run.stopped || run.appends.failed) return;
      const now = clock.now();
      const ctx: DeliveryContext = { tick: run.tick, now, limits: this.settings.limits, source: this.settings.source };
      const plan = planDelivery(pending, ctx);
      if (plan.kind === 'abandon') {
        await run.appends.add(this.ports.sink.publish(plan.events), () => this.count(run, 'abandoned'));
        continue;
      }
      const fresh = allRenewed && now.getTime() - renewedAt.getTime() <= MAX_RENEWAL_AGE_MS;
      if (!fresh && !(await pendingEmails.renewClaim(dataSource, pending, run.token, now))) {
        this.count(run, 'skipped');
        continue;
      }
      const outcome = await this.send(pending, run.directory.get(pending.userId));
      const events = decideDelivery(pending, plan.attempt, outcome, ctx);
      const kind = events.length === 2 ? 'abandoned' : events[0].type === 'idm.email.sent' ? 'sent' : 'failed';
      // One email's events stay in order (EmailFailed before EmailAbandoned): the sink appends them one after the other.
      await run.appends.add(this.ports.sink.publish(events), () => this.count(run, kind));
    }
  }

  private count(run: Run, outcome: 'sent' | 'failed' | 'abandoned' | 'skipped'): void {
    run.counts[outcome] += 1;
    run.onProgress();
  }

  private async send(pending: PendingEmail, recipient: Recipient | undefined): Promise<SendOutcome> {
    // No address yet (unknown user, or a directory account without mail): user events may still be
    // on their way, or a UserModified brings the address later; retried until the limits give up.
    if (!hasAddress(recipient)) return { ok: false, permanent: false, error: 'no email address known for the user yet' };
    const template = this.ports.templates.get(pending.emailType);
    // Only possible when a rule was removed while its emails were pending: nothing will ever render it.
    if (!template) return { ok: false, permanent: true, error: `no template for email type ${pending.emailType}` };
    const rendered = renderTemplate(template, emailValues(recipient, pending));
    const result = await this.ports.transport.send({ to: recipient.email, ...rendered, messageId: messageIdFor(pending.queuedEventId, this.settings.from) });
    return result.ok ? { ok: true, messageId: result.messageId } : { ok: false, permanent: result.failure.permanent, error: result.failure.message };
  }
}
