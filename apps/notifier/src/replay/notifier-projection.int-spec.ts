import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import type { IdmEvent } from '@idm/contracts';
import { replayProjection } from '@idm/messaging';
import { anEvent, fullThenPartialReplayOnEachDatabase, memoryLog } from '@idm/testing';
import { onEachNotifierDatabase } from '../notifier-database.fixture.js';
import { openNotifierDatabase } from '../notifier.database.js';
import { notifierProjection } from './notifier-projection.js';

// The replay writes through the live notifier's set-based statements (`VALUES` lists on SQLite,
// `unnest` on Postgres): both must give the same rows, for a full and for a partial replay, with
// awkward text in them.
const STREAM = 'REPLAY_NOTIFIER';
const names = ['O\'Brien "Bob"', 'back\\slash', 'comma, {brace}', 'NULL', 'Zoë 🚀', ''];

function scenario(): IdmEvent[] {
  const events: IdmEvent[] = [];
  const at = (n: number) => ({ time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)) });
  for (let i = 0; i < 40; i++) {
    const userId = `u-${i}`;
    const name = names[i % names.length]!;
    const added = anEvent.userAdded({ userId, email: `${userId}@example.com`, ...(name ? { displayName: name } : {}) }, at(i));
    events.push(added);
    const queued = anEvent.emailQueued(
      { userId, emailType: 'NEW_USER', causationEvent: { id: added.id, type: added.type } },
      { ...at(100 + i), causedBy: added },
    );
    events.push(queued);
    if (i % 4 === 0)
      events.push(anEvent.emailSent({ userId, emailType: 'NEW_USER', attempt: 1, tick: 't1' }, { ...at(200 + i), causedBy: queued }));
    if (i % 4 === 1)
      events.push(
        anEvent.emailFailed(
          { userId, emailType: 'NEW_USER', error: '421 try later', permanent: false, attempt: 1, tick: 't1' },
          { ...at(200 + i), causedBy: queued },
        ),
      );
    if (i % 4 === 2)
      events.push(
        anEvent.emailAbandoned(
          { userId, emailType: 'NEW_USER', attempts: 3, lastError: '550 no such user' },
          { ...at(200 + i), causedBy: queued },
        ),
      );
    if (i % 5 === 0)
      events.push(
        anEvent.userModified({ userId, email: `${userId}@new.example.com`, changes: { mail: `${userId}@new.example.com` } }, at(300 + i)),
      );
  }
  return events;
}

async function dump(ds: DataSource): Promise<unknown> {
  const recipients = (await ds.query('SELECT user_id, email, display_name, updated_seq FROM recipient ORDER BY user_id')) as Array<
    Record<string, unknown>
  >;
  const pending = (await ds.query(
    'SELECT user_id, email_type, queued_event_id, queued_at, first_queued_at, attempts, last_error, context FROM pending_email ORDER BY user_id, email_type',
  )) as Array<Record<string, unknown>>;
  const norm = (rows: Array<Record<string, unknown>>) =>
    rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [
          k,
          typeof v === 'bigint' || (typeof v === 'string' && /^\d+$/.test(v) && k.endsWith('seq')) ? Number(v) : v,
        ]),
      ),
    );
  return { recipients: norm(recipients), pending: norm(pending) };
}

describe('notifier replay into SQLite and Postgres', () => {
  it('writes the same rows on both databases, for a full and a partial replay', async (t) => {
    const dumps = await fullThenPartialReplayOnEachDatabase(
      {
        log: memoryLog(scenario()),
        open: openNotifierDatabase,
        replay: (ds, read, fromSeq) =>
          replayProjection(notifierProjection(ds), { read, sink: () => undefined }, { stream: STREAM, fromSeq, batchSize: 25 }),
        dump,
      },
      (message) => t.diagnostic(message),
    );
    const sqlite = dumps.sqlite as { recipients: unknown[]; pending: unknown[] };
    assert.equal(sqlite.recipients.length, 40);
    assert.equal(sqlite.pending.length, 20, 'flags left: the failed (retried) and the never-settled ones');
    if (dumps.postgres) assert.deepEqual(dumps.postgres, dumps.sqlite);
  });
});

describe('notifier replay over a claimed row', () => {
  it('a replayed EmailFailed that releases the claim clears its owner too, as the live tick does', async (t) => {
    const added = anEvent.userAdded({ userId: 'u-1', email: 'u-1@example.com' });
    const queued = anEvent.emailQueued(
      { userId: 'u-1', emailType: 'NEW_USER', causationEvent: { id: added.id, type: added.type } },
      { causedBy: added },
    );
    const failed = anEvent.emailFailed(
      { userId: 'u-1', emailType: 'NEW_USER', error: '421 try later', permanent: false, attempt: 1, tick: 'tick-1' },
      { causedBy: queued },
    );
    const log = memoryLog([added, queued, failed]);
    const replay = (ds: DataSource, fromSeq: number | undefined) =>
      replayProjection(notifierProjection(ds), { read: log.read, sink: () => undefined }, { stream: STREAM, fromSeq, batchSize: 25 });
    await onEachNotifierDatabase(t, async (ds) => {
      await replay(ds, undefined);
      // A tick of instance-1 claims the row again, and its EmailFailed (seq 3) releases it.
      await ds.query(
        "UPDATE pending_email SET claimed_tick = 'tick-1', claimed_at = '2026-01-01T00:00:00.000Z', claim_token = 'tok', claim_owner = 'instance-1'",
      );
      await replay(ds, 3);
      assert.deepEqual(await ds.query('SELECT claimed_tick, claim_token, claim_owner, attempts FROM pending_email'), [
        { claimed_tick: null, claim_token: null, claim_owner: null, attempts: 1 },
      ]);
    });
  });
});
