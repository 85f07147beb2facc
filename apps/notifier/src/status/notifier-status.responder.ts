import { appVersion, Clock } from '@idm/config';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { DataSource } from 'typeorm';
import { CommandSubjects, emailPreviewQuerySchema, userQuerySchema } from '@idm/contracts';
import { NATS_CONNECTION, RequestResponders } from '@idm/messaging';
import { InstanceLeaseEntity } from '../instance-lease/instance-lease.entity.js';
import type { NotifierConfig } from '../notifier.config.js';
import { NOTIFIER_CONFIG, NOTIFIER_TEMPLATES } from '../notifier.tokens.js';
import { PendingEmailEntity } from '../pending-emails/pending-email.entity.js';
import { newlyQueuedEmail } from '../pending-emails/pending-email.js';
import { emailValues } from '../templates/email-values.js';
import { renderTemplate } from '../templates/template-renderer.js';
import type { TemplateSet } from '../templates/template-store.js';
import { RecipientEntity } from '../recipients/recipient.entity.js';

/** What a preview of a password-sync failure email says when no real failure is at hand. */
const SAMPLE_CONTEXT: Readonly<Record<string, string>> = { passwordOrigin: 'source', syncFailureReason: 'policy-violation' };
/** Queue group: one replica answers each query. */
export const NOTIFIER_STATUS_QUEUE = 'idm-notifier';

/**
 * Answers the operator queries of `CommandSubjects` (`idm.cmd.notifier.*`, core-NATS request/reply;
 * the `idm` CLI and the console ask them): read-only questions about the notifier's own tables, so operators (and the CLI) never
 * read them directly. `status` → `{ ok, version, recipients, pending, pendingByType: { TYPE: n }, oldestPending,
 * instances: [{ instanceId, startedAt, heartbeatAt, live, claims }] }` (a lapsed instance's claims
 * are taken over at the next tick);
 * `user` with `{ "userId" }` → `{ ok, userId, known, pending: [{ emailType, attempts, lastError, firstQueuedAt, claimed }] }`;
 * `preview` with `{ "userId", "emailType"? }` → `{ ok, userId, known, previews: [{ emailType, subject, html, text }] }`:
 * each template (or the one asked for) rendered for that user as it would be sent (a user the
 * notifier does not know gets sample values). Nothing is sent or stored.
 */
@Injectable()
export class NotifierStatusResponder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly responders: RequestResponders;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    @Inject(NOTIFIER_TEMPLATES) private readonly templates: TemplateSet,
  ) {
    this.responders = new RequestResponders(nc, NOTIFIER_STATUS_QUEUE, new Logger('NotifierStatus'));
  }

  onApplicationBootstrap(): void {
    this.responders.serve(CommandSubjects.NotifierStatus, () => this.status());
    this.responders.serveParsed(CommandSubjects.NotifierUser, userQuerySchema, '{ "userId": "<id>" }', (q) => this.user(q.userId));
    this.responders.serveParsed(
      CommandSubjects.NotifierPreview,
      emailPreviewQuerySchema,
      '{ "userId": "<id>", "emailType"?: "<TYPE>" }',
      (q) => this.preview(q.userId, q.emailType),
    );
  }

  /** Stops taking requests; those in flight are answered before the connection drains. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.responders.close();
  }

  private async status(): Promise<unknown> {
    const byType = (await this.dataSource
      .getRepository(PendingEmailEntity)
      .createQueryBuilder('p')
      .select('p.email_type', 'emailType')
      .addSelect('COUNT(*)', 'n')
      .addSelect('MIN(p.first_queued_at)', 'oldest')
      .groupBy('p.email_type')
      .getRawMany()) as Array<{ emailType: string; n: number | string; oldest: string | null }>;
    const pendingByType: Record<string, number> = {};
    let oldestPending: string | null = null;
    for (const row of byType) {
      pendingByType[row.emailType] = Number(row.n);
      if (row.oldest !== null && (oldestPending === null || row.oldest < oldestPending)) oldestPending = row.oldest;
    }
    const recipients = await this.dataSource.getRepository(RecipientEntity).count();
    const pending = Object.values(pendingByType).reduce((a, b) => a + b, 0);
    return { ok: true, version: appVersion(), recipients, pending, pendingByType, oldestPending, instances: await this.instances() };
  }

  /** Every instance lease with its claim count; `live` by this replica's clock and lease timeout. */
  private async instances(): Promise<unknown[]> {
    const lapsedBefore = this.clock.now().getTime() - this.config.lease.leaseTimeoutMs;
    const claims = (await this.dataSource
      .getRepository(PendingEmailEntity)
      .createQueryBuilder('p')
      .select('p.claim_owner', 'owner')
      .addSelect('COUNT(*)', 'n')
      .where('p.claim_owner IS NOT NULL')
      .groupBy('p.claim_owner')
      .getRawMany()) as Array<{ owner: string; n: number | string }>;
    const leases = await this.dataSource.getRepository(InstanceLeaseEntity).find({ order: { instanceId: 'ASC' } });
    return leases.map((l) => ({
      instanceId: l.instanceId,
      startedAt: l.startedAt.toISOString(),
      heartbeatAt: l.heartbeatAt.toISOString(),
      live: l.heartbeatAt.getTime() >= lapsedBefore,
      claims: Number(claims.find((c) => c.owner === l.instanceId)?.n ?? 0),
    }));
  }

  private async user(userId: string): Promise<unknown> {
    const recipient = await this.dataSource.getRepository(RecipientEntity).findOneBy({ userId });
    const rows = await this.dataSource.getRepository(PendingEmailEntity).find({ where: { userId }, order: { emailType: 'ASC' } });
    return {
      ok: true,
      userId,
      known: recipient !== null,
      pending: rows.map((r) => ({
        emailType: r.emailType,
        attempts: r.attempts,
        lastError: r.lastError,
        firstQueuedAt: r.firstQueuedAt.toISOString(),
        claimed: r.claimedTick !== null,
      })),
    };
  }

  private async preview(userId: string, emailType: string | undefined): Promise<unknown> {
    if (emailType !== undefined && !this.templates.has(emailType))
      return { ok: false, error: `no template for email type ${emailType}; known: ${[...this.templates.keys()].join(', ')}` };
    const row = await this.dataSource.getRepository(RecipientEntity).findOneBy({ userId });
    // A known user without an address yet still gets a preview; the address shows as a placeholder.
    const recipient = row
      ? { userId, email: row.email ?? '(no address yet)', displayName: row.displayName, updatedSeq: row.updatedSeq }
      : { userId, email: `${userId}@example.com`, displayName: null, updatedSeq: 0 };
    const pendingRows = await this.dataSource.getRepository(PendingEmailEntity).find({ where: { userId } });
    const previews = [...this.templates.entries()]
      .filter(([type]) => emailType === undefined || type === emailType)
      .map(([type, template]) => {
        // The captured context of a real pending email of that type, else sample values.
        const captured = pendingRows.find((p) => p.emailType === type)?.context;
        const context = captured ? (JSON.parse(captured) as Record<string, string>) : SAMPLE_CONTEXT;
        const values = emailValues(
          recipient,
          newlyQueuedEmail({ userId, emailType: type, queuedEventId: 'preview', at: new Date(0), context }),
        );
        return { emailType: type, ...renderTemplate(template, values) };
      });
    return { ok: true, userId, known: row !== null, previews };
  }
}
