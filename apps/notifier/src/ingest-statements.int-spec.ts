import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIXED_NOW } from '@idm/testing';
import { onEachNotifierDatabase } from './notifier-database.fixture.js';
import { newlyQueuedEmail, type PendingEmail } from './pending-emails/pending-email.js';
import { PendingEmailRepository } from './pending-emails/pending-email.repository.js';
import { selectFlagState } from './pending-emails/flag-state.statements.js';
import { selectPendingTypes, upsertPendingEmails } from './pending-emails/pending-email.statements.js';
import type { Recipient } from './recipients/recipient.decider.js';
import { RecipientRepository } from './recipients/recipient.repository.js';
import { selectRecipients, upsertRecipients } from './recipients/recipient.statements.js';

// The ingest's raw statements (one multi-row upsert per table and batch: `unnest` arrays on
// Postgres, a VALUES list on SQLite) must store exactly what TypeORM reads back as the values
// written, on both engines: text that arrays and SQL quote specially, NULLs, a key twice in one
// batch (a Postgres upsert may not touch a row twice), batches larger than one SQLite statement.

/** Text that SQL, Postgres array literals or JSON treat specially. */
const AWKWARD = [`O'Brien`, 'say "hi"', 'back\\slash', '{braces},commas', 'NULL', '', 'tab\there\nnewline', 'Zoë 🚀 中文', '$1 ? :p'];

function pending(userId: string, emailType: string, overrides: Partial<PendingEmail> = {}): PendingEmail {
  return {
    ...newlyQueuedEmail({ userId, emailType, queuedEventId: `q-${userId}-${emailType}`, at: FIXED_NOW, context: {} }),
    ...overrides,
  };
}

describe('the recipient upsert of a batch', () => {
  it('stores special characters and NULLs as given, read back by the raw select and by TypeORM alike', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const recipients: Recipient[] = AWKWARD.map((text, i) => ({
        userId: `user-${text}`,
        email: i % 3 === 0 ? null : `${text}@example.com`,
        displayName: i % 2 === 0 ? null : text,
        updatedSeq: 2 ** 40 + i,
      }));
      await dataSource.transaction((m) => upsertRecipients(m, recipients));
      const read = await selectRecipients(
        dataSource,
        recipients.map((r) => r.userId),
      );
      assert.deepEqual(
        recipients.map((r) => read.get(r.userId)),
        recipients,
      );
      for (const r of recipients) assert.deepEqual(await new RecipientRepository().find(dataSource, r.userId), r, r.userId);
    });
  });

  it('overwrites every column of a stored recipient, NULLs included', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      await dataSource.transaction((m) =>
        upsertRecipients(m, [{ userId: 'u1', email: 'old@example.com', displayName: 'Old', updatedSeq: 1 }]),
      );
      const next: Recipient = { userId: 'u1', email: null, displayName: null, updatedSeq: 7 };
      await dataSource.transaction((m) => upsertRecipients(m, [next]));
      assert.deepEqual(await new RecipientRepository().find(dataSource, 'u1'), next);
    });
  });

  it('writes a user listed twice in one batch once, with its last entry', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const first: Recipient = { userId: 'twice', email: 'a@example.com', displayName: 'A', updatedSeq: 1 };
      const last: Recipient = { userId: 'twice', email: 'b@example.com', displayName: null, updatedSeq: 2 };
      const other: Recipient = { userId: 'other', email: 'o@example.com', displayName: 'O', updatedSeq: 3 };
      await dataSource.transaction((m) => upsertRecipients(m, [first, other, last]));
      assert.deepEqual(
        [...(await selectRecipients(dataSource, ['twice', 'other', 'twice', 'nobody'])).values()].sort(
          (a, b) => a.updatedSeq - b.updatedSeq,
        ),
        [last, other],
      );
    });
  });

  it('handles batches larger than one SQLite statement, and empty ones', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const recipients = Array.from({ length: 1_234 }, (_, i) => ({
        userId: `bulk-${i}`,
        email: `b${i}@example.com`,
        displayName: null,
        updatedSeq: i,
      }));
      await dataSource.transaction((m) => upsertRecipients(m, recipients));
      await dataSource.transaction((m) => upsertRecipients(m, []));
      const read = await selectRecipients(
        dataSource,
        recipients.map((r) => r.userId),
      );
      assert.equal(read.size, recipients.length);
      assert.deepEqual(read.get('bulk-1233'), recipients[1_233]);
      assert.equal((await selectRecipients(dataSource, [])).size, 0);
    });
  });
});

describe('the pending-email upsert of a batch', () => {
  it('stores special characters, NULLs and claims as given, read back by TypeORM as written', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const rows = AWKWARD.map((text, i) =>
        pending(`user-${text}`, `TYPE_${i}`, {
          queuedEventId: `q-${i}`,
          queuedAt: new Date(FIXED_NOW.getTime() + i),
          firstQueuedAt: new Date(FIXED_NOW.getTime() - i),
          attempts: i,
          lastError: i % 2 === 0 ? null : text,
          context: { reason: text, [text || 'empty']: 'x' },
          ...(i % 3 === 0 ? { claimedTick: `tick-${text}`, claimedAt: FIXED_NOW, claimToken: `token-${i}` } : {}),
        }),
      );
      await dataSource.transaction((m) => upsertPendingEmails(m, rows));
      const repo = new PendingEmailRepository();
      for (const row of rows) assert.deepEqual(await repo.find(dataSource, row.userId, row.emailType), row, row.userId);
      const types = await selectPendingTypes(
        dataSource,
        rows.map((r) => r.userId),
      );
      for (const row of rows) assert.deepEqual([...(types.get(row.userId) ?? [])], [row.emailType]);
    });
  });

  it('overwrites a stored row; the claim owner is kept with a kept claim and cleared with a released one', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      await dataSource.transaction((m) => upsertPendingEmails(m, [pending('kept', 'NEW_USER'), pending('released', 'NEW_USER')]));
      await dataSource.query(
        `UPDATE pending_email SET claim_token = 'tok', claimed_tick = 'tick', claimed_at = '${FIXED_NOW.toISOString()}', claim_owner = 'instance-1'`,
      );
      const kept = pending('kept', 'NEW_USER', {
        attempts: 2,
        lastError: 'boom',
        claimedTick: 'tick',
        claimedAt: FIXED_NOW,
        claimToken: 'tok',
      });
      const released = pending('released', 'NEW_USER', { queuedEventId: 'q-new', context: { a: 'b' } });
      await dataSource.transaction((m) => upsertPendingEmails(m, [kept, released]));
      const repo = new PendingEmailRepository();
      assert.deepEqual(await repo.find(dataSource, 'kept', 'NEW_USER'), kept);
      assert.deepEqual(await repo.find(dataSource, 'released', 'NEW_USER'), released);
      const owners = (await dataSource.query('SELECT user_id, claim_owner FROM pending_email ORDER BY user_id')) as unknown[];
      assert.deepEqual(owners, [
        { user_id: 'kept', claim_owner: 'instance-1' },
        { user_id: 'released', claim_owner: null },
      ]);
    });
  });

  it('writes a key listed twice in one batch once, with its last entry; other types of the user stay apart', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const first = pending('twice', 'NEW_USER', { queuedEventId: 'q-first' });
      const last = pending('twice', 'NEW_USER', { queuedEventId: 'q-last', context: { n: '2' } });
      const otherType = pending('twice', 'PASSWORD_EXPIRY');
      await dataSource.transaction((m) => upsertPendingEmails(m, [first, otherType, last]));
      const repo = new PendingEmailRepository();
      assert.deepEqual(await repo.find(dataSource, 'twice', 'NEW_USER'), last);
      assert.deepEqual(await repo.find(dataSource, 'twice', 'PASSWORD_EXPIRY'), otherType);
      assert.deepEqual([...((await selectPendingTypes(dataSource, ['twice', 'twice'])).get('twice') ?? [])].sort(), [
        'NEW_USER',
        'PASSWORD_EXPIRY',
      ]);
    });
  });

  it('handles batches larger than one SQLite statement, and empty ones', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const users = Array.from({ length: 1_050 }, (_, i) => `bulk-${i}`);
      await dataSource.transaction((m) =>
        upsertPendingEmails(
          m,
          users.map((u) => pending(u, 'NEW_USER')),
        ),
      );
      await dataSource.transaction((m) => upsertPendingEmails(m, []));
      const types = await selectPendingTypes(dataSource, [...users, 'nobody']);
      assert.equal(types.size, users.length);
      assert.equal(types.has('nobody'), false);
      assert.equal((await selectPendingTypes(dataSource, [])).size, 0);
    });
  });
});

describe('the flag state of a batch (recipients and pending types, one statement on Postgres)', () => {
  it('reads both tables apart: users with a recipient, pending emails, both or neither; NULL columns; ids twice', async (t) => {
    await onEachNotifierDatabase(t, async (dataSource) => {
      const noAddress: Recipient = { userId: 'no-address', email: null, displayName: null, updatedSeq: 3 };
      const both: Recipient = { userId: `both ${AWKWARD[0]!}`, email: 'b@example.com', displayName: AWKWARD[1]!, updatedSeq: 2 ** 41 };
      await dataSource.transaction(async (m) => {
        await upsertRecipients(m, [noAddress, both]);
        await upsertPendingEmails(m, [
          pending(both.userId, 'NEW_USER'),
          pending(both.userId, 'PASSWORD_EXPIRY'),
          pending('only-pending', 'NEW_USER'),
        ]);
      });
      const state = await selectFlagState(dataSource, ['no-address', both.userId, 'only-pending', 'nobody', 'no-address']);
      assert.deepEqual(
        new Map([...state.recipients].sort(([a], [b]) => a.localeCompare(b))),
        new Map([
          [both.userId, both],
          ['no-address', noAddress],
        ]),
      );
      assert.deepEqual(
        new Map([...state.pendingTypes].map(([user, types]) => [user, [...types].sort()])),
        new Map([
          [both.userId, ['NEW_USER', 'PASSWORD_EXPIRY']],
          ['only-pending', ['NEW_USER']],
        ]),
      );
      const empty = await selectFlagState(dataSource, []);
      assert.equal(empty.recipients.size + empty.pendingTypes.size, 0);
    });
  });
});
