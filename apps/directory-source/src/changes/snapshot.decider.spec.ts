import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UserRemovalReason } from '@idm/contracts';
import { FIXED_NOW } from '@idm/testing';
import {
  decidePoll,
  exceedsRemovalGuard,
  missingFromScan,
  sourceEventId,
  type PollDecision,
  type SnapshotRow,
} from './snapshot.decider.js';
import { hashReported, type ReportedValues, type SourceEntry } from './source-entry.js';

function entry(userId: string, stamp: string, reported: Partial<ReportedValues> = {}, overrides: Partial<SourceEntry> = {}): SourceEntry {
  const values: ReportedValues = {
    mail: `${userId}@example.com`,
    displayName: userId.toUpperCase(),
    enabled: true,
    title: null,
    ...reported,
  };
  const mail = values['mail'];
  return {
    userId,
    entryId: `uuid-${userId}`,
    stamp,
    modifiedAt: null,
    email: typeof mail === 'string' && mail.includes('@') ? mail : null,
    displayName: typeof values['displayName'] === 'string' ? values['displayName'] : null,
    enabled: values['enabled'] !== false,
    reported: values,
    hash: hashReported(values),
    ...overrides,
  };
}

function rowOf(e: SourceEntry): SnapshotRow {
  return { userId: e.userId, entryId: e.entryId, stamp: e.stamp, hash: e.hash, values: e.reported };
}

function given(rows: readonly SnapshotRow[]) {
  const snapshot = new Map(rows.map((r) => [r.userId, r]));
  const byEntryId = new Map(rows.map((r) => [r.entryId, r]));
  return {
    when(entries: readonly SourceEntry[], opts: { removals?: ReadonlyMap<string, UserRemovalReason>; emit?: boolean } = {}): PollDecision {
      return decidePoll({
        entries,
        snapshot,
        byEntryId,
        removals: opts.removals ?? new Map(),
        emit: opts.emit ?? true,
        now: FIXED_NOW,
        source: '/idm/directory-source',
      });
    },
  };
}

const summary = (d: PollDecision) => d.events.map((e) => ({ type: e.type, id: e.id, data: e.data }));

describe('directory change detection', () => {
  describe('given an empty snapshot', () => {
    it('when a user is read, then UserAdded with id derived from (entry id, stamp) and the row is recorded', () => {
      const ada = entry('ada', 'csn-1', { title: 'Countess' });
      const d = given([]).when([ada]);
      assert.deepEqual(summary(d), [
        {
          type: 'idm.user.added',
          id: sourceEventId('idm.user.added', 'uuid-ada', 'csn-1'),
          data: {
            userId: 'ada',
            email: 'ada@example.com',
            displayName: 'ADA',
            attributes: { mail: 'ada@example.com', displayName: 'ADA', enabled: true, title: 'Countess' },
          },
        },
      ]);
      assert.deepEqual(d.upserts, [rowOf(ada)]);
    });

    it('when a user without mail is read, then UserAdded has no email', () => {
      const d = given([]).when([entry('grace', 'csn-1', { mail: null })]);
      assert.equal('email' in d.events[0]!.data, false);
    });

    it('when it is the baseline scan, then the rows are recorded and nothing is announced', () => {
      const d = given([]).when([entry('ada', 'csn-1'), entry('grace', 'csn-2')], { emit: false });
      assert.deepEqual(d.events, []);
      assert.equal(d.upserts.length, 2);
    });

    it('when two entries claim one user id, then the first one wins and the other is counted', () => {
      const d = given([]).when([entry('ada', 'csn-1'), entry('ada', 'csn-9', {}, { entryId: 'uuid-other' })]);
      assert.equal(d.events.length, 1);
      assert.deepEqual(d.duplicateUserIds, ['ada']);
    });
  });

  describe('given a known user', () => {
    const ada = entry('ada', 'csn-1', { title: 'Countess' });

    it('when read again with the same stamp (overlap window), then nothing happens', () => {
      const d = given([rowOf(ada)]).when([ada]);
      assert.deepEqual(d.events, []);
      assert.deepEqual(d.upserts, []);
      assert.equal(d.unchanged.get('same-stamp'), 1);
    });

    it('when only an unreported attribute changed (new stamp, same values), then no event and the stamp is stored', () => {
      const touched = entry('ada', 'csn-2', { title: 'Countess' });
      const d = given([rowOf(ada)]).when([touched]);
      assert.deepEqual(d.events, []);
      assert.deepEqual(d.upserts, [rowOf(touched)]);
      assert.equal(d.unchanged.get('nothing-reported-changed'), 1);
    });

    it('when a reported attribute changed, then UserModified with only that change', () => {
      const d = given([rowOf(ada)]).when([entry('ada', 'csn-2', { title: 'Analyst' })]);
      assert.deepEqual(summary(d), [
        {
          type: 'idm.user.modified',
          id: sourceEventId('idm.user.modified', 'uuid-ada', 'csn-2'),
          data: { userId: 'ada', changes: { title: 'Analyst' } },
        },
      ]);
    });

    it('when the address changed, then UserModified carries the new email and the change', () => {
      const d = given([rowOf(ada)]).when([entry('ada', 'csn-2', { title: 'Countess', mail: 'ada@new.example' })]);
      assert.deepEqual(d.events[0]?.data, { userId: 'ada', email: 'ada@new.example', changes: { mail: 'ada@new.example' } });
    });

    it('when the address was removed, then the change is mail: null and no email', () => {
      const d = given([rowOf(ada)]).when([entry('ada', 'csn-2', { title: 'Countess', mail: null })]);
      assert.deepEqual(d.events[0]?.data, { userId: 'ada', changes: { mail: null } });
    });

    it('when the account was disabled, then UserModified changes.enabled = false', () => {
      const d = given([rowOf(ada)]).when([entry('ada', 'csn-2', { title: 'Countess', enabled: false })]);
      assert.deepEqual(d.events[0]?.data, { userId: 'ada', changes: { enabled: false } });
    });

    it('when its id attribute changed (same entry id), then the old id is removed and the new one added', () => {
      const renamed = entry('ada.king', 'csn-2', { title: 'Countess' }, { entryId: 'uuid-ada' });
      const d = given([rowOf(ada)]).when([renamed]);
      assert.deepEqual(
        d.events.map((e) => [e.type, e.subject]),
        [
          ['idm.user.removed', 'ada'],
          ['idm.user.added', 'ada.king'],
        ],
      );
      assert.deepEqual(d.deletes, ['ada']);
    });

    it('when the shell found it gone or moved, then UserRemoved with that reason and the row is deleted', () => {
      const grace = entry('grace', 'csn-5');
      const d = given([rowOf(ada), rowOf(grace)]).when([], {
        removals: new Map<string, UserRemovalReason>([
          ['ada', 'deleted'],
          ['grace', 'moved-out-of-scope'],
        ]),
      });
      assert.deepEqual(summary(d), [
        {
          type: 'idm.user.removed',
          id: sourceEventId('idm.user.removed', 'uuid-ada', 'csn-1'),
          data: { userId: 'ada', reason: 'deleted' },
        },
        {
          type: 'idm.user.removed',
          id: sourceEventId('idm.user.removed', 'uuid-grace', 'csn-5'),
          data: { userId: 'grace', reason: 'moved-out-of-scope' },
        },
      ]);
      assert.deepEqual(d.deletes, ['ada', 'grace']);
    });

    it('when the same poll is decided twice (a repeat after a crash), then the event ids are identical', () => {
      const changed = entry('ada', 'csn-2', { title: 'Analyst' });
      assert.deepEqual(
        given([rowOf(ada)])
          .when([changed])
          .events.map((e) => e.id),
        given([rowOf(ada)])
          .when([changed])
          .events.map((e) => e.id),
      );
    });
  });

  describe('the removal guard', () => {
    it('lets up to 10 removals through whatever the snapshot size, and more only below the share', () => {
      assert.equal(exceedsRemovalGuard(10, 10, 20), false);
      assert.equal(exceedsRemovalGuard(11, 100, 20), false);
      assert.equal(exceedsRemovalGuard(21, 100, 20), true);
      assert.equal(exceedsRemovalGuard(100_000, 100_000, 20), true, 'a scan that sees nobody');
      assert.equal(exceedsRemovalGuard(100_000, 100_000, 100), false, '100 % turns it off');
    });
  });

  describe('a full scan', () => {
    it('misses the users that are neither present nor renamed', () => {
      const ada = entry('ada', 'csn-1');
      const grace = entry('grace', 'csn-2');
      const renamed = entry('ada.king', 'csn-3', {}, { entryId: 'uuid-ada' });
      const snapshot = new Map([ada, grace].map((e) => [e.userId, rowOf(e)]));
      assert.deepEqual(
        missingFromScan([renamed], snapshot).map((r) => r.userId),
        ['grace'],
      );
    });
  });
});
