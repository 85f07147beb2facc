import { errorMessage } from '@idm/config';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PasswordCacheService } from '../password-cache/password-cache.service.js';
import { PASSWORD_SYNC_CONFIG } from '../password-sync.tokens.js';
import type { PasswordSyncConfig } from '../password-sync.config.js';

/** With `-1` (never expire) the cache size is reported this often, so growth is visible. */
const REPORT_EVERY_MS = 10 * 60_000;

/**
 * Runs the sweep (expiry, outage retries, accepted passwords never attempted) once at start and
 * then every `PASSWORD_SWEEP_INTERVAL_SECONDS` (default 5 s, the first backoff step). Runs never
 * overlap; a failed run is logged and the next one tries again.
 */
@Injectable()
export class PasswordSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PasswordSweeper');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastReport = 0;

  constructor(
    @Inject(PasswordCacheService) private readonly service: PasswordCacheService,
    @Inject(PASSWORD_SYNC_CONFIG) private readonly config: PasswordSyncConfig,
  ) {}

  onApplicationBootstrap(): void {
    const sweep = (): void => {
      if (!this.running) this.running = this.runOnce().finally(() => (this.running = undefined));
    };
    // At start too: what a crash left unattempted must not wait a whole interval (nor a user event).
    sweep();
    this.timer = setInterval(sweep, this.config.sweepIntervalMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One sweep; public for the shell spec. */
  async runOnce(): Promise<void> {
    try {
      const report = await this.service.sweep();
      if (report.expired > 0 || report.retried > 0 || report.recovered > 0) {
        this.logger.log(`expired ${report.expired}, retried ${report.retried}, attempted ${report.recovered} never attempted`);
      }
      if (this.config.policy.minutes === null && Date.now() - this.lastReport >= REPORT_EVERY_MS) {
        this.lastReport = Date.now();
        this.logger.warn(`${await this.service.cachedCount()} passwords cached; PASSWORD_EXPIRATION_MINUTES=-1, so none of them expires`);
      }
    } catch (err) {
      this.logger.error(`sweep failed: ${errorMessage(err)}`);
    }
  }
}
