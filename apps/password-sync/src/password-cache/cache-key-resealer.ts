import { errorMessage } from '@idm/config';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PASSWORD_SYNC_CONFIG } from '../password-sync.tokens.js';
import type { PasswordSyncConfig } from '../password-sync.config.js';
import { PasswordCacheService } from './password-cache.service.js';
import { PasswordSealer } from './sealed-secret.js';

/** Default pause between re-seal passes (`PASSWORD_CACHE_RESEAL_INTERVAL_SECONDS`). */
export const DEFAULT_RESEAL_INTERVAL_MS = 60_000;

/**
 * After a key rotation, moves every cached secret still sealed with a previous key onto the
 * current key: one pass at start, then one every `PASSWORD_CACHE_RESEAL_INTERVAL_SECONDS` (a
 * replica still running with the old key during a rolling deploy may seal new rows with it).
 * Idle when no previous key is configured. Passes never overlap; a failed pass is logged and the
 * next one tries again. Secrets used before the pass reaches them are re-sealed on use.
 */
@Injectable()
export class CacheKeyResealer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('CacheKeyResealer');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopping = false;
  private startupCheck: Promise<void> | undefined;

  constructor(
    @Inject(PasswordCacheService) private readonly service: PasswordCacheService,
    @Inject(PasswordSealer) private readonly sealer: PasswordSealer,
    @Inject(PASSWORD_SYNC_CONFIG) private readonly settings: PasswordSyncConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: a slow count must not hold up the start; it only warns.
    this.startupCheck = this.warnAboutLostKeys();
    if (this.sealer.previousKeyIds.length === 0) return;
    this.logger.log(
      `password cache key ${this.sealer.keyId}; previous keys ${this.sealer.previousKeyIds.join(', ')} open old rows, which are re-sealed`,
    );
    const tick = (): void => {
      if (!this.running) this.running = this.runOnce().finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.settings.resealIntervalMs ?? DEFAULT_RESEAL_INTERVAL_MS);
  }

  /** A key replaced instead of rotated leaves rows nobody can open: say so once, loudly, at start. */
  private async warnAboutLostKeys(): Promise<void> {
    try {
      const usage = await this.service.keyUsage();
      if (usage.sealedWithUnknownKey > 0) {
        const lost = Object.keys(usage.cachedByKey).filter((id) => !this.sealer.canOpen(id));
        this.logger.warn(
          `${usage.sealedWithUnknownKey} cached passwords are sealed with keys this process does not hold (${lost.join(', ')}); ` +
            'they will be discarded on their next attempt. If a key was replaced by mistake, put it back in PASSWORD_CACHE_PREVIOUS_KEYS',
        );
      }
    } catch (err) {
      this.logger.error(`cannot count cached passwords per key: ${errorMessage(err)}`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.startupCheck;
    await this.running;
  }

  /** One pass: batches until nothing is left under a previous key (or shutdown). Public for specs. */
  async runOnce(): Promise<{ resealed: number; failed: number }> {
    let resealed = 0;
    let failed = 0;
    try {
      for (;;) {
        const report = await this.service.resealBatch();
        resealed += report.resealed;
        failed += report.failed;
        // A full batch of rows that all failed would come back forever: stop and report them.
        if (!report.more || this.stopping || report.resealed === 0) break;
      }
      if (resealed > 0 || failed > 0)
        this.logger.log(
          `re-sealed ${resealed} cached passwords with key ${this.sealer.keyId}${failed > 0 ? `; ${failed} could not be opened` : ''}`,
        );
    } catch (err) {
      this.logger.error(`re-seal pass failed: ${errorMessage(err)}`);
    }
    return { resealed, failed };
  }
}
