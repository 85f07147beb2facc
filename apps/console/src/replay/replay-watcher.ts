import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import { Clock } from '@idm/config';
import { REPLAY_PROGRESS_PREFIX, type ReplayLine } from '@idm/messaging';
import type { OperationsClient } from '@idm/operations';
import { OPERATIONS } from '../console.tokens.js';

/** The last line a replay announced, and when it arrived. */
export interface ReplayProgress {
  readonly app: string;
  readonly line: ReplayLine;
  readonly at: string;
}

/**
 * Listens to `idm.replay.progress.*` (core NATS: a running replay announces its lines there) and
 * keeps the last line of each app, so the replay page can show a replay while it runs — started
 * by `idm replay` anywhere. Only what arrives while the console runs is known.
 */
@Injectable()
export class ReplayWatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly last = new Map<string, ReplayProgress>();
  private subscription: Subscription | undefined;

  constructor(
    @Inject(OPERATIONS) private readonly ops: OperationsClient,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.subscription = this.ops.nc.subscribe(`${REPLAY_PROGRESS_PREFIX}.*`, {
      callback: (err, msg) => {
        if (err) return;
        try {
          const app = msg.subject.slice(REPLAY_PROGRESS_PREFIX.length + 1);
          this.last.set(app, { app, line: msg.json<ReplayLine>(), at: this.clock.now().toISOString() });
        } catch {
          // not a replay line: ignored
        }
      },
    });
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  /** The last line of each app's most recent replay. */
  progress(): ReplayProgress[] {
    return [...this.last.values()];
  }
}
