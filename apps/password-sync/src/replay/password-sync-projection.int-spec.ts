import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import type { IdmEvent } from '@idm/contracts';
import { replayProjection } from '@idm/messaging';
import { anEvent, fullThenPartialReplayOnEachDatabase, memoryLog } from '@idm/testing';
import { openPasswordSyncDatabase } from '../password-sync.database.js';
import { passwordSyncProjection } from './password-sync-projection.js';

// The replay writes through TypeORM on SQLite and through raw `unnest` upserts on Postgres: both
// must give the same rows, never write a secret, and agree for a full and a partial replay.
const STREAM = 'REPLAY_PASSWORDS';

function scenario(): IdmEvent[] {
  const events: IdmEvent[] = [];
  const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n));
  for (let i = 0; i < 30; i++) {
    const userId = `u-${i}`;
    const changed = anEvent.passwordChanged(
      { userId, origin: i % 2 ? 'source' : 'vault', changedAt: at(i).toISOString() },
      { time: at(i) },
    );
    events.push(changed);
    const failed = (reason: 'user-not-found' | 'policy-violation' | 'target-unavailable', attempt: number, n: number) =>
      anEvent.passwordSyncFailed(
        { userId, reason, message: `${reason}: "quoted", back\\slash, 🚀`, attempt, expiresAt: at(3600 + i).toISOString() },
        { time: at(n) },
      );
    switch (i % 5) {
      case 0:
        events.push(anEvent.passwordSynced({ userId, target: 'ldap://dir', attempt: 1 }, { time: at(100 + i) }));
        break;
      case 1:
        events.push(
          failed('user-not-found', 1, 100 + i),
          anEvent.passwordSynced({ userId, target: 'ldap://dir', attempt: 2 }, { time: at(200 + i) }),
        );
        break;
      case 2:
        events.push(failed('policy-violation', 1, 100 + i), failed('policy-violation', 2, 200 + i));
        break;
      case 3:
        events.push(failed('target-unavailable', 1, 100 + i));
        break;
      case 4:
        events.push(
          failed('user-not-found', 1, 100 + i),
          anEvent.passwordExpired({ userId, cachedAt: at(i).toISOString() }, { time: at(3600 + i) }),
        );
        break;
    }
  }
  return events;
}

async function dump(ds: DataSource): Promise<Array<Record<string, unknown>>> {
  const rows = (await ds.query(
    'SELECT user_id, state, origin, changed_at, cached_at, expires_at, attempts, unavailable_streak, last_reason, last_message, next_retry_at, settled_at, ciphertext, nonce, tag, key_id FROM password_cache ORDER BY user_id',
  )) as Array<Record<string, unknown>>;
  return rows.map((r) => ({ ...r, attempts: Number(r.attempts), unavailable_streak: Number(r.unavailable_streak) }));
}

describe('password-sync replay into SQLite and Postgres', () => {
  it('writes the same rows on both databases, never a secret, for a full and a partial replay', async (t) => {
    const policy = { minutes: 60 };
    const dumps = await fullThenPartialReplayOnEachDatabase(
      {
        log: memoryLog(scenario()),
        open: openPasswordSyncDatabase,
        replay: (ds, read, fromSeq) =>
          replayProjection(passwordSyncProjection(ds, policy), { read, sink: () => undefined }, { stream: STREAM, fromSeq, batchSize: 20 }),
        dump,
        checkFull: (rows, kind) => {
          assert.equal(rows.length, 30);
          assert.ok(
            rows.every((r) => r.ciphertext === null && r.nonce === null && r.tag === null && r.key_id === null),
            `${kind}: a replay never writes a secret`,
          );
        },
      },
      (message) => t.diagnostic(message),
    );
    assert.ok(dumps.sqlite, 'SQLite always runs');
    if (dumps.postgres) assert.deepEqual(dumps.postgres, dumps.sqlite);
  });
});
