import type { Clock } from '@idm/config';
import type { IdmEvent, UserRemovalReason } from '@idm/contracts';
import { nextCheckpoint, planPoll, type FullScanReason, type PollPlan } from '../changes/poll-plan.js';
import { decidePoll, exceedsRemovalGuard, missingFromScan, type SnapshotRow, type UnchangedReason } from '../changes/snapshot.decider.js';
import {
  toSourceEntry,
  type EntryMapping,
  type EntryWarning,
  type RawEntry,
  type SkipReason,
  type SourceEntry,
} from '../changes/source-entry.js';
import { DIALECT_DEFAULTS } from '../directory/dialect.js';
import type { DirectoryReader, DirectorySession } from '../directory/directory-reader.js';
import type { SnapshotRepository } from '../snapshot/snapshot.repository.js';

/** Where events go: `EventPublisher` from `@idm/messaging` fits (resolves once the stream stored it). */
export interface EventAppender {
  publish(event: IdmEvent): Promise<unknown>;
}

/** What the poller logs; Nest's `Logger` fits. Never a password. */
export interface PollLogger {
  log(message: string): void;
  warn(message: string): void;
}

/** Settings of the poll itself. */
export interface PollSettings {
  /** The id attribute defaults to the dialect's (`uid` / `sAMAccountName`) once the dialect is known. */
  readonly mapping: Omit<EntryMapping, 'dialect' | 'userIdAttribute'> & { readonly userIdAttribute?: string };
  readonly fullScanCron: string;
  /** `baseline`: the first scan records the snapshot and emits nothing; `emit`: it announces every user. */
  readonly initialSync: 'baseline' | 'emit';
  /** CloudEvents `source`. */
  readonly source: string;
  /** Events published at once (each awaits its PubAck). */
  readonly publishConcurrency: number;
  /** A full scan removing more than this share of the snapshot (and more than 10 users) fails instead (see `exceedsRemovalGuard`). */
  readonly removalGuardPercent: number;
}

/** A full scan would remove too many users at once; nothing was published or committed. */
export class RemovalGuardError extends Error {
  override readonly name = 'RemovalGuardError';
  readonly code = 'IDM_SOURCE_REMOVAL_GUARD';
}

/** Collaborators of {@link PollService}. */
export interface PollPorts {
  readonly reader: DirectoryReader;
  readonly snapshot: SnapshotRepository;
  readonly events: EventAppender;
  readonly clock: Clock;
  readonly logger: PollLogger;
}

/** What one poll did, for logs, metrics and tests. */
export interface PollReport {
  readonly kind: 'full' | 'incremental';
  readonly reason?: FullScanReason;
  readonly dialect: string;
  readonly entriesRead: number;
  readonly events: readonly IdmEvent[];
  readonly skipped: ReadonlyMap<SkipReason, number>;
  readonly warnings: ReadonlyMap<EntryWarning, number>;
  readonly unchanged: ReadonlyMap<UnchangedReason, number>;
  /** LDAP requests this poll sent. */
  readonly requests: number;
  /** True when this was the baseline scan (nothing announced). */
  readonly baseline: boolean;
  /** Where the time went, in seconds: reading the directory (and the snapshot), publishing, committing. */
  readonly phases: { readonly read: number; readonly publish: number; readonly commit: number };
}

/** Observes each poll (metrics). */
export type PollObserver = (report: PollReport) => void;

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * One poll: read the checkpoint, open the directory, plan (full scan or change query), read the
 * entries a page at a time, decide the events against the snapshot, publish them all and wait
 * for every acknowledgement, then commit snapshot and checkpoint together. A failure anywhere
 * before the commit leaves the previous checkpoint: the next poll repeats the work and derives
 * the same event ids, which the stream deduplicates.
 */
export class PollService {
  private readonly observers: PollObserver[] = [];

  constructor(
    private readonly ports: PollPorts,
    private readonly settings: PollSettings,
  ) {}

  onPoll(observer: PollObserver): void {
    this.observers.push(observer);
  }

  /**
   * @param force `full` forces a full scan (an operator, a test); otherwise the plan decides.
   * @throws DirectoryUnavailableError / DirectoryBindError, or a publish / database error: nothing was committed.
   */
  async poll(force?: 'full'): Promise<PollReport> {
    const { reader, snapshot, logger } = this.ports;
    const requestsBefore = reader.requestCount();
    const started = performance.now();
    const checkpoint = await snapshot.checkpoint();
    const session = await reader.open();
    try {
      const now = this.ports.clock.now();
      const planned = planPoll(checkpoint, session.server, this.settings.fullScanCron, now);
      const plan: PollPlan = force === 'full' && planned.kind !== 'full' ? { kind: 'full', reason: 'scheduled' } : planned;
      const skipped = new Map<SkipReason, number>();
      const warnings = new Map<EntryWarning, number>();
      const entries: SourceEntry[] = [];
      const dialect = session.server.dialect;
      const mapping: EntryMapping = {
        ...this.settings.mapping,
        dialect,
        userIdAttribute: this.settings.mapping.userIdAttribute ?? DIALECT_DEFAULTS[dialect].userIdAttribute,
      };
      const read = (page: readonly RawEntry[]): void => {
        for (const raw of page) {
          const outcome = toSourceEntry(raw, mapping);
          if (outcome.kind === 'skip') {
            bump(skipped, outcome.reason);
            logger.warn(`skipped entry ${outcome.dn}: ${outcome.reason}`);
            continue;
          }
          for (const w of outcome.warnings) {
            bump(warnings, w);
            logger.warn(`entry ${raw.dn} (user ${outcome.entry.userId}): ${w}; its events carry no email`);
          }
          entries.push(outcome.entry);
        }
      };

      let rows: ReadonlyMap<string, SnapshotRow>;
      let byEntry: ReadonlyMap<string, SnapshotRow>;
      const removals = new Map<string, UserRemovalReason>();
      let baseline = false;
      if (plan.kind === 'full') {
        await session.scanAll(read);
        const all = await snapshot.all();
        rows = all;
        byEntry = new Map([...all.values()].map((r) => [r.entryId, r]));
        baseline = checkpoint === undefined && all.size === 0 && this.settings.initialSync === 'baseline';
        const missing = missingFromScan(entries, all);
        if (exceedsRemovalGuard(missing.length, all.size, this.settings.removalGuardPercent)) {
          throw new RemovalGuardError(
            `the full scan would remove ${missing.length} of ${all.size} users (more than ${this.settings.removalGuardPercent} %): refused. ` +
              "Check SOURCE_BASE_DN, SOURCE_USER_FILTER and the bind account's read rights; if the removals are real, raise SOURCE_REMOVAL_GUARD_PERCENT (100 = off) for one start",
          );
        }
        for (const row of missing) removals.set(row.userId, await this.whereabouts(session, row));
      } else {
        const deleted = plan.dialect === 'active-directory' ? await session.deletedSince(plan.usnAbove) : [];
        await session.changedSince(plan, read);
        const found = await snapshot.some(
          entries.map((e) => e.userId),
          [...entries.map((e) => e.entryId), ...deleted],
        );
        rows = found.byUser;
        byEntry = found.byEntry;
        for (const entryId of deleted) {
          const row = found.byEntry.get(entryId);
          if (row) removals.set(row.userId, 'deleted');
        }
      }

      const decision = decidePoll({
        entries,
        snapshot: rows,
        byEntryId: byEntry,
        removals,
        emit: !baseline,
        now,
        source: this.settings.source,
      });
      for (const userId of decision.duplicateUserIds)
        logger.warn(`user id ${userId} is held by more than one entry; the first one read is used`);
      const decided = performance.now();
      await this.publishAll(decision.events);
      const published = performance.now();
      const next = nextCheckpoint(
        checkpoint,
        plan,
        session.server,
        entries.map((e) => e.modifiedAt),
        now,
      );
      await snapshot.commit(decision.upserts, decision.deletes, next, now);
      const committed = performance.now();
      const report: PollReport = {
        kind: plan.kind,
        ...(plan.kind === 'full' ? { reason: plan.reason } : {}),
        dialect: session.server.dialect,
        entriesRead: entries.length,
        events: decision.events,
        skipped,
        warnings,
        unchanged: decision.unchanged,
        requests: reader.requestCount() - requestsBefore,
        baseline,
        phases: { read: (decided - started) / 1000, publish: (published - decided) / 1000, commit: (committed - published) / 1000 },
      };
      for (const observe of this.observers) observe(report);
      return report;
    } finally {
      await session.close();
    }
  }

  /** Deleted, or moved out of the base DN / filter? Asked only for users the snapshot lost. */
  private async whereabouts(session: DirectorySession, row: SnapshotRow): Promise<UserRemovalReason> {
    return (await session.locate(row.entryId)) === 'elsewhere' ? 'moved-out-of-scope' : 'deleted';
  }

  /** Publishes with bounded concurrency; resolves when every event is stored, rejects on the first failure (after the rest settle). */
  private async publishAll(events: readonly IdmEvent[]): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | undefined;
    const lane = async (): Promise<void> => {
      while (next < events.length && !failure) {
        const event = events[next++]!;
        try {
          await this.ports.events.publish(event);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.settings.publishConcurrency, events.length)) }, lane));
    if (failure) throw failure.error;
  }
}
