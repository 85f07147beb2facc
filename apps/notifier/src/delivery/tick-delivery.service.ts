import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { IdmEventOf } from '@idm/contracts';
import type { Clock } from '@idm/config';
import { claimCutoffs, type LeaseSettings } from '../instance-lease/claim-lease.js';
import type { PendingEmail } from '../pending-emails/pending-email.js';
import { pendingKeyOf, type PendingEmailRepository } from '../pending-emails/pending-email.repository.js';
import { hasAddress, type Recipient } from '../recipients/recipient.decider.js';
import type { RecipientRepository } from '../recipients/recipient.repository.js';
import { emailValues } from '../templates/email-values.js';
import { renderTemplate } from '../templates/template-renderer.js';
import type { TemplateSet } from '../templates/template-store.js';
import { forEachBounded } from './bounded-concurrency.js';
import { ClaimRenewal } from './claim-renewal.js';
import { decideDelivery, planDelivery, type DeliveryContext, type DeliveryLimits, type SendOutcome } from './delivery.decider.js';
import type { DeliveryEvent } from '../pending-emails/pending-email.evolve.js';
import type { DeliveryOutcomeService, StoredOutcome } from './delivery-outcome.service.js';
import type { MailTransport } from './mail-transport.js';
import { OutcomeWindow } from './outcome-window.js';
import { messageIdsFrom } from './smtp-settings.js';

/** Tuning of a tick run. */
export interface TickDeliverySettings {
  readonly limits: DeliveryLimits;
  /** Emails in flight at once; match the SMTP pool size. */
  readonly sendConcurrency: number;
  /** When claims are taken over: the owner's lease lapsed, or (backstop) the claim TTL passed. */
  readonly lease: LeaseSettings;
  /** This process's instance id; claims are stamped with it and live as long as its lease. */
  readonly instanceId: string;
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
  /** Emails whose claim was lost to another run, before the send or before the outcome was stored. */
  readonly skipped: number;
}

/** Collaborators of {@link TickDeliveryService}. */
export interface TickDeliveryPorts {
  readonly dataSource: DataSource;
  readonly pendingEmails: PendingEmailRepository;
  readonly recipients: RecipientRepository;
  readonly transport: MailTransport;
  readonly templates: TemplateSet;
  /** Stores each email's outcome: its flag change and its events, one outbox transaction. */
  readonly outcomes: DeliveryOutcomeService;
  readonly clock: Clock;
}

/**
 * Claims renewed per statement, ahead of the lanes. One statement per email (or per small page)
 * cost a disk sync each on SQLite; 256 keys stay far below both databases' parameter limits.
 */
const RENEWAL_BLOCK = 256;
/** Outcomes a lane may leave uncommitted while it sends on. */
const UNCOMMITTED_PER_LANE = 4;
/** A block renewal counts as "right before the send" only this long; after that a new block is renewed. */
const MAX_RENEWAL_AGE_MS = 10_000;

/** One tick run, shared by its lanes. */
interface Run {
  readonly tick: IdmEventOf<'idm.bulk-task.tick'>;
  readonly token: string;
  readonly directory: Map<string, Recipient>;
  readonly counts: { claimed: number; sent: number; failed: number; abandoned: number; skipped: number };
  /** Keys (`userId` NUL `emailType`) whose outcome is stored, or whose claim was lost: not to be released. */
  readonly settled: Set<string>;
  readonly outcomes: OutcomeWindow;
  readonly renewal: ClaimRenewal;
  readonly onProgress: () => void;
  /** Set when a lane failed: the other lanes start no further sends. */
  stopped: boolean;
}

/**
 * Works one `RetryEmailNotifications` tick: claims every pending email that no live run holds
 * (the recipe's bulk-task indicator, set in the database), then sends them with bounded
 * concurrency, storing per email its outcome: the flag change and `EmailSent` / `EmailFailed` /
 * `EmailAbandoned`, in one outbox transaction ({@link DeliveryOutcomeService}).
 *
 * The lanes take emails one at a time, in order; claims are renewed ahead of them a block of
 * {@link RENEWAL_BLOCK} per UPDATE (see {@link ClaimRenewal}), and a block renewal older than
 * {@link MAX_RENEWAL_AGE_MS} (slow SMTP) is done again from the next email. An email whose block
 * lost a claim is renewed on its own right before its send, and skipped if the claim is gone.
 * Each lane sends one email at a time, so sends in flight = lanes = the SMTP pool size. Outcomes
 * are stored without holding up the next send (at most {@link UNCOMMITTED_PER_LANE} per lane
 * uncommitted); those finishing together share a commit (the outbox's group commit), and the tick
 * returns only when all are committed. The outbox relay publishes the events afterwards.
 *
 * At-least-once: if the process dies after the server accepted an email but before its outcome is
 * committed, the claim dies with the instance's lease and a later tick (of any replica) sends it
 * again, with the same Message-ID; the same holds when the claim was taken over meanwhile
 * (`claim-lost`: nothing is stored, the new owner sends and stores).
 *
 * A run that fails gives back the claims it did not finish (no stored outcome) before it throws,
 * so the retried tick or the next one sends them at once. If even that release fails (database
 * down), it is retried before the next claim of this process.
 * @throws the first database error (after the sends and commits in flight settle), so the tick is retried.
 */
export class TickDeliveryService {
  /** Claims of failed runs whose release failed too: given back before the next claim. */
  private readonly unreleased: Array<{ readonly token: string; readonly pending: readonly PendingEmail[] | undefined }> = [];
  private readonly messageIdOf: (queuedEventId: string) => string;

  constructor(
    private readonly ports: TickDeliveryPorts,
    private readonly settings: TickDeliverySettings,
  ) {
    this.messageIdOf = messageIdsFrom(settings.from);
  }

  async deliver(tick: IdmEventOf<'idm.bulk-task.tick'>, onProgress: () => void = () => undefined): Promise<TickReport> {
    const { dataSource, pendingEmails, clock } = this.ports;
    const token = randomUUID();
    await this.releaseLeftovers();
    let claimed: PendingEmail[] | undefined;
    let run: Run | undefined;
    try {
      const now = clock.now();
      await pendingEmails.claim(dataSource, {
        tickId: tick.id,
        token,
        owner: this.settings.instanceId,
        now,
        ...claimCutoffs(now, this.settings.lease),
      });
      claimed = await pendingEmails.claimed(dataSource, token);
      run = await this.startRun(tick, token, claimed, onProgress);
      return await this.deliverRun(run, claimed);
    } catch (error) {
      // Unknown claims (the read-back failed) are released by token: none of them is settled yet.
      const settled = run?.settled;
      await this.giveBack(token, claimed && settled ? claimed.filter((p) => !settled.has(pendingKeyOf(p))) : claimed);
      throw error;
    }
  }

  private async startRun(
    tick: IdmEventOf<'idm.bulk-task.tick'>,
    token: string,
    claimed: readonly PendingEmail[],
    onProgress: () => void,
  ): Promise<Run> {
    const directory = await this.ports.recipients.findMany(
      this.ports.dataSource,
      claimed.map((p) => p.userId),
    );
    const lanes = Math.max(1, Math.min(this.settings.sendConcurrency, claimed.length));
    return {
      tick,
      token,
      directory,
      counts: { claimed: claimed.length, sent: 0, failed: 0, abandoned: 0, skipped: 0 },
      settled: new Set(),
      outcomes: new OutcomeWindow(lanes * UNCOMMITTED_PER_LANE),
      renewal: new ClaimRenewal(
        claimed,
        (emails, now) => this.ports.pendingEmails.renewClaims(this.ports.dataSource, emails, token, now),
        RENEWAL_BLOCK,
        MAX_RENEWAL_AGE_MS,
      ),
      onProgress,
      stopped: false,
    };
  }

  private async deliverRun(run: Run, claimed: readonly PendingEmail[]): Promise<TickReport> {
    const lanes = Math.max(1, Math.min(this.settings.sendConcurrency, claimed.length));
    let failure: { readonly error: unknown } | undefined;
    try {
      await forEachBounded(
        claimed.map((_, index) => index),
        lanes,
        (index) => this.deliverOne(run, claimed[index]!, index),
      );
    } catch (error) {
      failure = { error };
    }
    await run.outcomes.drain();
    failure ??= run.outcomes.failure;
    if (failure) throw failure.error;
    return run.counts;
  }

  /**
   * Releases a failed run's unfinished claims. When the database refuses, they are kept for
   * {@link releaseLeftovers}: this process is alive, so its lease would otherwise hold them
   * until the claim TTL.
   */
  private async giveBack(token: string, pending: readonly PendingEmail[] | undefined): Promise<void> {
    if (pending?.length === 0) return;
    try {
      await this.ports.pendingEmails.release(this.ports.dataSource, token, pending);
    } catch {
      this.unreleased.push({ token, pending });
    }
  }

  /** Retries the releases that failed earlier; a failure here fails the run before it claims anything. */
  private async releaseLeftovers(): Promise<void> {
    while (this.unreleased.length > 0) {
      const { token, pending } = this.unreleased[0]!;
      await this.ports.pendingEmails.release(this.ports.dataSource, token, pending);
      this.unreleased.shift();
    }
  }

  private async deliverOne(run: Run, pending: PendingEmail, index: number): Promise<void> {
    try {
      await this.sendOne(run, pending, index);
    } catch (error) {
      run.stopped = true;
      throw error;
    }
  }

  private async sendOne(run: Run, pending: PendingEmail, index: number): Promise<void> {
    if (run.stopped || run.outcomes.failed) return;
    const { pendingEmails, dataSource, clock } = this.ports;
    // Asked first, in the lanes' (increasing) order, so the block ahead is renewed once for all lanes.
    const covered = run.renewal.covered(index, clock.now());
    const now = clock.now();
    const ctx: DeliveryContext = { tick: run.tick, now, limits: this.settings.limits, source: this.settings.source };
    const plan = planDelivery(pending, ctx);
    if (plan.kind === 'abandon') {
      await covered;
      await this.store(run, pending, plan.events, 'abandoned');
      return;
    }
    if (!(await covered) && !(await pendingEmails.renewClaim(dataSource, pending, run.token, clock.now()))) {
      this.settle(run, pending, 'skipped');
      return;
    }
    if (run.stopped || run.outcomes.failed) return;
    const outcome = await this.send(pending, run.directory.get(pending.userId));
    const events = decideDelivery(pending, plan.attempt, outcome, ctx);
    const kind = events.length === 2 ? 'abandoned' : events[0].type === 'idm.email.sent' ? 'sent' : 'failed';
    await this.store(run, pending, events, kind);
  }

  /** Stores one email's outcome without holding up the lane (up to the window); counts it once committed. */
  private async store(
    run: Run,
    pending: PendingEmail,
    events: readonly DeliveryEvent[],
    kind: 'sent' | 'failed' | 'abandoned',
  ): Promise<void> {
    const storing = this.ports.outcomes.store({ email: pending, claimToken: run.token, events });
    await run.outcomes.add(storing, (stored: StoredOutcome) => this.settle(run, pending, stored === 'stored' ? kind : 'skipped'));
  }

  /** The email's outcome is stored (or its claim is another run's): the run must not give it back. */
  private settle(run: Run, pending: PendingEmail, outcome: 'sent' | 'failed' | 'abandoned' | 'skipped'): void {
    run.settled.add(pendingKeyOf(pending));
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
    const result = await this.ports.transport.send({
      to: recipient.email,
      ...rendered,
      messageId: this.messageIdOf(pending.queuedEventId),
    });
    return result.ok
      ? { ok: true, messageId: result.messageId }
      : { ok: false, permanent: result.failure.permanent, error: result.failure.message };
  }
}
