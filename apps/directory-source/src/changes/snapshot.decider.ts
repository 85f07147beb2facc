import { createEvent, deriveEventId, type IdmEvent, type UserRemovalReason } from '@idm/contracts';
import type { ReportedValue, ReportedValues, SourceEntry } from './source-entry.js';

/** What the source remembers of a user: enough to tell a change and to name it. */
export interface SnapshotRow {
  readonly userId: string;
  readonly entryId: string;
  readonly stamp: string;
  readonly hash: string;
  readonly values: ReportedValues;
}

/** Everything one poll decides on. */
export interface PollDecisionInput {
  /** Entries the poll read: every user in scope (full scan), or those changed since the checkpoint. */
  readonly entries: readonly SourceEntry[];
  /** Snapshot rows by user id: all of them for a full scan, those of the entries' users otherwise. */
  readonly snapshot: ReadonlyMap<string, SnapshotRow>;
  /** Snapshot rows by entry id (finds a user whose id attribute changed). */
  readonly byEntryId: ReadonlyMap<string, SnapshotRow>;
  /** Users that left the scope, with why (the shell located them in the directory). */
  readonly removals: ReadonlyMap<string, UserRemovalReason>;
  /** False on the baseline scan: record the snapshot, announce nothing. */
  readonly emit: boolean;
  readonly now: Date;
  readonly source: string;
}

/** A user in the poll that changed nothing: why. */
export type UnchangedReason = 'same-stamp' | 'nothing-reported-changed' | 'duplicate-user-id';

/** The outcome: events to append (in order), then the snapshot writes, committed after the events are stored. */
export interface PollDecision {
  readonly events: readonly IdmEvent[];
  readonly upserts: readonly SnapshotRow[];
  readonly deletes: readonly string[];
  readonly unchanged: ReadonlyMap<UnchangedReason, number>;
  /** User ids seen twice in one poll (two entries claim one id): the first wins. */
  readonly duplicateUserIds: readonly string[];
}

/**
 * The id of a source event: derived from the entry's stable id and its change stamp, so a poll
 * repeated after a crash (same entries, same stamps) publishes identical ids and JetStream keeps one.
 */
export function sourceEventId(type: IdmEvent['type'], entryId: string, stamp: string): string {
  return deriveEventId('directory-source', entryId, stamp, type);
}

function sameValue(a: ReportedValue | undefined, b: ReportedValue | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Reported attributes whose value differs, with the new value (null = removed). */
export function changedValues(before: ReportedValues, after: ReportedValues): Record<string, ReportedValue> {
  const changes: Record<string, ReportedValue> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!sameValue(before[key], after[key])) changes[key] = after[key] ?? null;
  }
  return changes;
}

function rowOf(entry: SourceEntry): SnapshotRow {
  return { userId: entry.userId, entryId: entry.entryId, stamp: entry.stamp, hash: entry.hash, values: entry.reported };
}

/** The contract's attribute values are mutable arrays; ours are read-only. */
function wire(values: Readonly<Record<string, ReportedValue>>): Record<string, string | string[] | boolean | null> {
  const out: Record<string, string | string[] | boolean | null> = {};
  for (const [k, v] of Object.entries(values)) out[k] = Array.isArray(v) ? [...(v as readonly string[])] : (v as string | boolean | null);
  return out;
}

/**
 * Snapshot diff → events. Pure: the shell reads the directory and the snapshot, this decides.
 *
 * - An entry whose stamp equals the snapshot's was handled already (the overlap window of the
 *   change query returns it again): nothing.
 * - A user not in the snapshot: `UserAdded` (email only when valid; every reported attribute).
 * - A user whose reported hash changed: `UserModified` with only the changed attributes, and
 *   `email` when the address changed to a valid one. A new stamp with the same hash (a touch of
 *   an unreported attribute) only updates the stored stamp.
 * - A user whose entry id appears under another user id (its id attribute was changed): the old
 *   id is removed (`deleted`) and the new one added.
 * - `removals`: `UserRemoved` with the reason, and the row is forgotten.
 * With `emit` false the same snapshot writes happen and no event is produced (baseline).
 */
export function decidePoll(input: PollDecisionInput): PollDecision {
  const events: IdmEvent[] = [];
  const upserts: SnapshotRow[] = [];
  const deletes: string[] = [];
  const unchanged = new Map<UnchangedReason, number>();
  const duplicateUserIds: string[] = [];
  const seen = new Set<string>();
  const count = (reason: UnchangedReason): void => void unchanged.set(reason, (unchanged.get(reason) ?? 0) + 1);
  const options = (id: string) => ({ source: input.source, time: input.now, id });
  const removed = (row: SnapshotRow, reason: UserRemovalReason): void => {
    deletes.push(row.userId);
    if (input.emit) {
      events.push(
        createEvent(
          'idm.user.removed',
          row.userId,
          { userId: row.userId, reason },
          options(sourceEventId('idm.user.removed', row.entryId, row.stamp)),
        ),
      );
    }
  };

  for (const entry of input.entries) {
    if (seen.has(entry.userId)) {
      duplicateUserIds.push(entry.userId);
      count('duplicate-user-id');
      continue;
    }
    seen.add(entry.userId);
    const previous = input.snapshot.get(entry.userId);
    const renamedFrom = input.byEntryId.get(entry.entryId);
    if (renamedFrom && renamedFrom.userId !== entry.userId && !seen.has(renamedFrom.userId) && !input.removals.has(renamedFrom.userId)) {
      seen.add(renamedFrom.userId);
      removed(renamedFrom, 'deleted');
    }
    if (previous && previous.entryId === entry.entryId && previous.stamp === entry.stamp) {
      count('same-stamp');
      continue;
    }
    upserts.push(rowOf(entry));
    if (!previous) {
      if (input.emit) {
        const data = {
          userId: entry.userId,
          ...(entry.email !== null ? { email: entry.email } : {}),
          ...(entry.displayName !== null ? { displayName: entry.displayName.slice(0, 512) } : {}),
          attributes: wire(entry.reported),
        };
        events.push(
          createEvent('idm.user.added', entry.userId, data, options(sourceEventId('idm.user.added', entry.entryId, entry.stamp))),
        );
      }
      continue;
    }
    if (previous.hash === entry.hash) {
      count('nothing-reported-changed');
      continue;
    }
    const changes = changedValues(previous.values, entry.reported);
    if (Object.keys(changes).length === 0) {
      count('nothing-reported-changed');
      continue;
    }
    if (input.emit) {
      const emailChanged = 'mail' in changes && entry.email !== null;
      const data = { userId: entry.userId, ...(emailChanged ? { email: entry.email! } : {}), changes: wire(changes) };
      events.push(
        createEvent('idm.user.modified', entry.userId, data, options(sourceEventId('idm.user.modified', entry.entryId, entry.stamp))),
      );
    }
  }

  for (const [userId, reason] of input.removals) {
    const row = input.snapshot.get(userId);
    if (!row || seen.has(userId)) continue;
    removed(row, reason);
  }
  return { events, upserts, deletes, unchanged, duplicateUserIds };
}

/** Removals up to this many are never held back, whatever the snapshot's size. */
export const REMOVAL_GUARD_FLOOR = 10;

/**
 * Would this scan remove so many users that a misconfiguration is likelier than a real clean-up?
 * A wrong base DN, a filter typo or a bind account that lost its read rights makes a full scan
 * see nobody — and announce every user as removed. Held back: more than {@link REMOVAL_GUARD_FLOOR}
 * removals that are also more than `percent` % of the snapshot. `percent` ≥ 100 turns it off.
 */
export function exceedsRemovalGuard(removals: number, snapshotSize: number, percent: number): boolean {
  if (percent >= 100) return false;
  return removals > REMOVAL_GUARD_FLOOR && removals * 100 > snapshotSize * percent;
}

/**
 * Snapshot rows a full scan did not see: users deleted or moved out of the base DN / filter
 * (the shell asks the directory which). A row whose entry is present under another user id is a
 * rename, handled by {@link decidePoll}, not a removal.
 */
export function missingFromScan(entries: readonly SourceEntry[], snapshot: ReadonlyMap<string, SnapshotRow>): SnapshotRow[] {
  const userIds = new Set(entries.map((e) => e.userId));
  const entryIds = new Set(entries.map((e) => e.entryId));
  return [...snapshot.values()].filter((row) => !userIds.has(row.userId) && !entryIds.has(row.entryId));
}
