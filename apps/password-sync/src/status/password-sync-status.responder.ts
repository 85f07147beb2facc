import { appVersion } from '@idm/config';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { DataSource } from 'typeorm';
import { CommandSubjects, userQuerySchema } from '@idm/contracts';
import { NATS_CONNECTION, RequestResponders } from '@idm/messaging';
import { PasswordCacheRow } from '../password-cache/password-cache.entity.js';
import { PasswordCacheService } from '../password-cache/password-cache.service.js';

/** Queue group: one replica answers each query. */
export const PASSWORD_SYNC_STATUS_QUEUE = 'idm-password-sync';

/**
 * Answers the operator queries `idm.cmd.password-sync.*` (`CommandSubjects`; core-NATS
 * request/reply, asked by the `idm` CLI and the console): read-only questions about `password_cache`. Never a secret column: the queries select
 * the metadata only. `status` → `{ ok, cached, cachedByReason: { reason | "none": n }, nearestExpiry, nextRetry, keys }`,
 * where `keys` = `{ current, previous: [ids], cachedByKey: { keyId: n }, sealedWithPreviousKey, sealedWithUnknownKey }`
 * tells an operator when a previous key can be removed (`sealedWithPreviousKey` is 0);
 * `user` with `{ "userId" }` → `{ ok, userId, entry: { state, reason, message, attempts, changedAt, expiresAt, nextRetryAt, settledAt } | null }`.
 */
@Injectable()
export class PasswordSyncStatusResponder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly responders: RequestResponders;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PasswordCacheService) private readonly service: PasswordCacheService,
  ) {
    this.responders = new RequestResponders(nc, PASSWORD_SYNC_STATUS_QUEUE, new Logger('PasswordSyncStatus'));
  }

  onApplicationBootstrap(): void {
    this.responders.serve(CommandSubjects.PasswordSyncStatus, () => this.status());
    this.responders.serveParsed(CommandSubjects.PasswordSyncUser, userQuerySchema, '{ "userId": "<id>" }', (q) => this.user(q.userId));
  }

  /** Stops taking requests; those in flight are answered before the connection drains. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.responders.close();
  }

  private async status(): Promise<unknown> {
    const rows = (await this.dataSource
      .getRepository(PasswordCacheRow)
      .createQueryBuilder('r')
      .select('r.last_reason', 'reason')
      .addSelect('COUNT(*)', 'n')
      .addSelect('MIN(r.expires_at)', 'nearest')
      .addSelect('MIN(r.next_retry_at)', 'retry')
      .where('r.state = :state', { state: 'cached' })
      .groupBy('r.last_reason')
      .getRawMany()) as Array<{ reason: string | null; n: number | string; nearest: string | null; retry: string | null }>;
    const cachedByReason: Record<string, number> = {};
    let nearestExpiry: string | null = null;
    let nextRetry: string | null = null;
    for (const row of rows) {
      cachedByReason[row.reason ?? 'none'] = Number(row.n);
      if (row.nearest !== null && (nearestExpiry === null || row.nearest < nearestExpiry)) nearestExpiry = row.nearest;
      if (row.retry !== null && (nextRetry === null || row.retry < nextRetry)) nextRetry = row.retry;
    }
    const cached = Object.values(cachedByReason).reduce((a, b) => a + b, 0);
    return { ok: true, version: appVersion(), cached, cachedByReason, nearestExpiry, nextRetry, keys: await this.service.keyUsage() };
  }

  private async user(userId: string): Promise<unknown> {
    const row = await this.dataSource.getRepository(PasswordCacheRow).findOne({
      where: { userId },
      select: {
        userId: true,
        state: true,
        lastReason: true,
        lastMessage: true,
        attempts: true,
        changedAt: true,
        expiresAt: true,
        nextRetryAt: true,
        settledAt: true,
      },
    });
    const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());
    return {
      ok: true,
      userId,
      entry: row
        ? {
            state: row.state,
            reason: row.lastReason,
            message: row.lastMessage,
            attempts: row.attempts,
            changedAt: row.changedAt.toISOString(),
            expiresAt: iso(row.expiresAt),
            nextRetryAt: iso(row.nextRetryAt),
            settledAt: iso(row.settledAt),
          }
        : null,
    };
  }
}
