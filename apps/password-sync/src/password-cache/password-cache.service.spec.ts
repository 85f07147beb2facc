import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { createEvent, EventTypes, type IdmEvent } from '@idm/contracts';
import { Inbox, runInTransaction } from '@idm/persistence';
import { ManualClock, tempDir } from '@idm/testing';
import { PasswordTarget, type ApplyResult } from '../targets/password-target.js';
import { PasswordCacheRepository } from './password-cache.repository.js';
import { PasswordCacheService } from './password-cache.service.js';
import { openPasswordSyncDatabase } from '../password-sync.database.js';
import { PasswordSealer } from './sealed-secret.js';

/** A scripted target: answers from a queue and counts calls. */
class ScriptedTarget extends PasswordTarget {
  calls: { userId: string; password: string }[] = [];
  answers: ApplyResult[] = [];
  async apply(userId: string, password: Buffer | string): Promise<ApplyResult> {
    this.calls.push({ userId, password: password.toString() });
    return this.answers.shift() ?? { status: 'applied' };
  }
  describe(): string {
    return 'scripted:';
  }
}

describe('PasswordCacheService (shell order, real SQLite)', () => {
  let dataDir: string;
  let dataSource: DataSource;
  const target = new ScriptedTarget();
  const published: IdmEvent[] = [];
  let failPublish = false;
  let service: PasswordCacheService;
  const repo = new PasswordCacheRepository();

  before(async () => {
    dataDir = tempDir('pwsync-service');
    dataSource = await openPasswordSyncDatabase({ dataDir });
    service = new PasswordCacheService({
      dataSource,
      repository: repo,
      sealer: new PasswordSealer(randomBytes(32)),
      target,
      events: {
        publish: (e) => {
          if (failPublish) return Promise.reject(new Error('nats down'));
          published.push(e);
          return Promise.resolve();
        },
      },
      clock: new ManualClock('2026-03-01T10:00:00.000Z'),
      policy: { minutes: 60 },
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      consumer: 'password-sync',
    });
  });
  after(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const userAdded = (userId: string) =>
    createEvent(
      EventTypes.UserAdded,
      userId,
      { userId, email: `${userId}@example.com` },
      { source: '/spec', time: '2026-03-01T10:00:00.000Z' },
    );

  it('a user event already in the inbox runs no side effect', async () => {
    target.answers.push({ status: 'user-not-found', message: 'no entry' });
    await service.changePassword({ userId: 'u1', origin: 'source', password: Buffer.from('First-Passw0rd') });
    target.answers.push({ status: 'user-not-found', message: 'no entry' });
    const event = userAdded('u1');
    await service.onUserChanged(event, 7);
    const callsAfterFirst = target.calls.length;
    const eventsAfterFirst = published.length;
    await service.onUserChanged(event, 7);
    assert.equal(target.calls.length, callsAfterFirst);
    assert.equal(published.length, eventsAfterFirst);
    assert.equal(await Inbox.seen(dataSource, 'password-sync', event.id), true);
  });

  it('a user event with nothing cached is recorded in the inbox and applies nothing', async () => {
    const event = userAdded('nobody');
    const calls = target.calls.length;
    await service.onUserChanged(event, 8);
    assert.equal(target.calls.length, calls);
    assert.equal(await Inbox.seen(dataSource, 'password-sync', event.id), true);
  });

  it('a failed publish rolls back the state and the inbox row, and propagates; the retry appends the same ids', async () => {
    const event = userAdded('u1');
    failPublish = true;
    await assert.rejects(service.onUserChanged(event, 9), /nats down/);
    failPublish = false;
    assert.equal(await Inbox.seen(dataSource, 'password-sync', event.id), false);
    const before = await runInTransaction(dataSource, (m) => repo.load(m, 'u1'));
    assert.equal(before.status, 'cached');

    await service.onUserChanged(event, 9);
    const synced = published.at(-1);
    assert.equal(synced?.type, EventTypes.PasswordSynced);
    assert.equal(synced?.causationid, event.id);
    assert.equal((await runInTransaction(dataSource, (m) => repo.load(m, 'u1'))).status, 'synced');
    assert.equal(await Inbox.seen(dataSource, 'password-sync', event.id), true);
  });

  it('a database failure propagates, so the transport retries the delivery', async () => {
    await dataSource.destroy();
    await assert.rejects(service.onUserChanged(userAdded('u2'), 10));
  });
});

describe('PasswordCacheService: an accepted password whose first attempt left no outcome (real SQLite)', () => {
  /** Dies mid-attempt the first time (the process was killed before the outcome was recorded), then applies. */
  class DyingOnceTarget extends PasswordTarget {
    calls = 0;
    async apply(): Promise<ApplyResult> {
      this.calls += 1;
      if (this.calls === 1) throw new Error('process killed during the attempt');
      return { status: 'applied' };
    }
    describe(): string {
      return 'scripted:';
    }
  }
  let dataDir: string;
  let dataSource: DataSource;

  before(async () => {
    dataDir = tempDir('pwsync-overdue');
    dataSource = await openPasswordSyncDatabase({ dataDir });
  });
  after(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is attempted by the sweep once the grace period has passed, without any user event; PasswordSynced follows', async () => {
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    const target = new DyingOnceTarget();
    const published: IdmEvent[] = [];
    const repo = new PasswordCacheRepository();
    const service = new PasswordCacheService({
      dataSource,
      repository: repo,
      sealer: new PasswordSealer(randomBytes(32)),
      target,
      events: { publish: (e) => Promise.resolve(void published.push(e)) },
      clock,
      policy: { minutes: 60 },
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      consumer: 'password-sync',
      firstAttemptGraceMs: 30_000,
    });
    const reply = await service.changePassword({ userId: 'crash-1', origin: 'source', password: Buffer.from('Accepted-Passw0rd') });
    assert.equal(reply.ok, true, 'accepted: PasswordChanged is in the log');
    assert.equal(target.calls, 1);
    const left = await runInTransaction(dataSource, (m) => repo.load(m, 'crash-1'));
    assert.equal(left.status === 'cached' && left.attempts, 0, 'no outcome recorded');

    clock.set('2026-03-01T10:00:20.000Z');
    assert.deepEqual(await service.sweep(), { expired: 0, retried: 0, recovered: 0 }, 'within the grace period: left alone');
    clock.set('2026-03-01T10:00:31.000Z');
    assert.deepEqual(await service.sweep(), { expired: 0, retried: 0, recovered: 1 });
    assert.equal(target.calls, 2);
    assert.deepEqual(
      published.map((e) => e.type),
      [EventTypes.PasswordChanged, EventTypes.PasswordSynced],
    );
    const synced = await runInTransaction(dataSource, (m) => repo.load(m, 'crash-1'));
    assert.equal(synced.status, 'synced');
    assert.deepEqual(await service.sweep(), { expired: 0, retried: 0, recovered: 0 }, 'nothing left to recover');
  });
});
