import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { DataSource, EntityManager } from 'typeorm';
import { createEvent, EventTypes, type IdmEvent } from '@idm/contracts';
import { countOutboxRows, Inbox, runInTransaction } from '@idm/persistence';
import { ManualClock, tempDir, waitFor } from '@idm/testing';
import { PasswordTarget, type ApplyResult } from '../targets/password-target.js';
import type { PasswordCacheState } from './password-cache.decider.js';
import { PasswordCacheRepository, type SaveOutcome } from './password-cache.repository.js';
import { PasswordCacheService, type PasswordCacheServiceDeps } from './password-cache.service.js';
import { openPasswordSyncDatabase } from '../password-sync.database.js';
import { PasswordSealer } from './sealed-secret.js';
import { specOutbox } from './spec-support/spec-outbox.js';

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

/** The service as the specs build it: a fresh key, a fixed clock, a 60-minute policy, a silent log. */
function specService(
  deps: Pick<PasswordCacheServiceDeps, 'dataSource' | 'repository' | 'target' | 'outbox'> & Partial<PasswordCacheServiceDeps>,
): PasswordCacheService {
  return new PasswordCacheService({
    sealer: new PasswordSealer(randomBytes(32)),
    clock: new ManualClock('2026-03-01T10:00:00.000Z'),
    policy: { minutes: 60 },
    logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    consumer: 'password-sync',
    ...deps,
  });
}

/** A SQLite database of the suite's own: opened before its tests, removed after them. */
function suiteDatabase(name: string): { readonly dataSource: DataSource } {
  let dataDir = '';
  const suite: { dataSource: DataSource } = { dataSource: undefined as unknown as DataSource };
  before(async () => {
    dataDir = tempDir(name);
    suite.dataSource = await openPasswordSyncDatabase({ dataDir });
  });
  after(async () => {
    if (suite.dataSource.isInitialized) await suite.dataSource.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return suite;
}

describe('PasswordCacheService (shell order, real SQLite)', () => {
  let dataDir: string;
  let dataSource: DataSource;
  const target = new ScriptedTarget();
  const published: IdmEvent[] = [];
  /** Ids the stream refused while it was down. */
  const refused: string[] = [];
  let failPublish = false;
  let service: PasswordCacheService;
  let flush: () => Promise<number>;
  const repo = new PasswordCacheRepository();

  before(async () => {
    dataDir = tempDir('pwsync-service');
    dataSource = await openPasswordSyncDatabase({ dataDir });
    const outbox = specOutbox(dataSource, (e) => {
      if (failPublish) {
        refused.push(e.id);
        return Promise.reject(new Error('nats down'));
      }
      published.push(e);
      return Promise.resolve();
    });
    flush = outbox.flush;
    service = specService({ dataSource, repository: repo, target, outbox: outbox.outbox });
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
    await flush();
    const callsAfterFirst = target.calls.length;
    const eventsAfterFirst = published.length;
    await service.onUserChanged(event, 7);
    assert.equal(await flush(), 0, 'nothing new in the outbox');
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

  it('a failed publish loses nothing: state, inbox row and event committed together; the relay sends the same event again', async () => {
    const event = userAdded('u1');
    failPublish = true;
    await service.onUserChanged(event, 9);
    assert.equal(await Inbox.seen(dataSource, 'password-sync', event.id), true);
    assert.equal((await runInTransaction(dataSource, (m) => repo.load(m, 'u1'))).status, 'synced');
    await assert.rejects(flush(), /nats down/);
    assert.equal(await countOutboxRows(dataSource), 1, 'the event waits in the outbox');

    failPublish = false;
    assert.equal(await flush(), 1);
    const synced = published.at(-1);
    assert.equal(synced?.type, EventTypes.PasswordSynced);
    assert.equal(synced?.causationid, event.id);
    assert.deepEqual(refused, [synced?.id], 'the same id as the refused publish: the stream drops a repeat');
    assert.equal(await countOutboxRows(dataSource), 0);
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
  const suite = suiteDatabase('pwsync-overdue');

  it('is attempted by the sweep once the grace period has passed, without any user event; PasswordSynced follows', async () => {
    const { dataSource } = suite;
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    const target = new DyingOnceTarget();
    const published: IdmEvent[] = [];
    const repo = new PasswordCacheRepository();
    const { outbox, flush } = specOutbox(dataSource, (e) => Promise.resolve(void published.push(e)));
    const service = specService({ dataSource, repository: repo, target, outbox, clock, firstAttemptGraceMs: 30_000 });
    const reply = await service.changePassword({ userId: 'crash-1', origin: 'source', password: Buffer.from('Accepted-Passw0rd') });
    assert.equal(reply.ok, true, 'accepted: PasswordChanged is committed to the outbox');
    assert.equal(target.calls, 1);
    const left = await runInTransaction(dataSource, (m) => repo.load(m, 'crash-1'));
    assert.equal(left.status === 'cached' && left.attempts, 0, 'no outcome recorded');

    clock.set('2026-03-01T10:00:20.000Z');
    assert.deepEqual(await service.sweep(), { expired: 0, retried: 0, recovered: 0 }, 'within the grace period: left alone');
    clock.set('2026-03-01T10:00:31.000Z');
    assert.deepEqual(await service.sweep(), { expired: 0, retried: 0, recovered: 1 });
    assert.equal(target.calls, 2);
    await flush();
    assert.deepEqual(
      published.map((e) => e.type),
      [EventTypes.PasswordChanged, EventTypes.PasswordSynced],
    );
    const synced = await runInTransaction(dataSource, (m) => repo.load(m, 'crash-1'));
    assert.equal(synced.status, 'synced');
    assert.deepEqual(await service.sweep(), { expired: 0, retried: 0, recovered: 0 }, 'nothing left to recover');
  });
});

describe('PasswordCacheService on the outbox with group commit (real SQLite)', () => {
  /** Refuses to save one user's state, as a full disk or a constraint would. */
  class FailingFor extends PasswordCacheRepository {
    constructor(private readonly userId: string) {
      super();
    }
    override async save(manager: EntityManager, state: PasswordCacheState): Promise<SaveOutcome> {
      if (state.userId === this.userId) throw new Error(`cannot save ${this.userId}`);
      return super.save(manager, state);
    }
  }
  class Applied extends PasswordTarget {
    async apply(): Promise<ApplyResult> {
      // Answers later, like a directory: the other units of the burst queue meanwhile.
      await new Promise((resolve) => setImmediate(resolve));
      return { status: 'applied' };
    }
    describe(): string {
      return 'scripted:';
    }
  }
  let dataDir: string;
  let dataSource: DataSource;
  let transactions = 0;
  const published: IdmEvent[] = [];
  let flush: () => Promise<number>;
  let service: PasswordCacheService;

  before(async () => {
    dataDir = tempDir('pwsync-group-commit');
    dataSource = await openPasswordSyncDatabase({ dataDir });
    const transaction = dataSource.manager.transaction.bind(dataSource.manager) as (...args: unknown[]) => Promise<unknown>;
    dataSource.manager.transaction = ((...args: unknown[]) => {
      transactions++;
      return transaction(...args);
    }) as EntityManager['transaction'];
    const outbox = specOutbox(dataSource, (e) => Promise.resolve(void published.push(e)));
    flush = outbox.flush;
    service = specService({ dataSource, repository: new FailingFor('bad'), target: new Applied(), outbox: outbox.outbox });
  });
  after(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("commits a burst of changes in fewer transactions than units, and relays each user's events in order", async () => {
    const users = ['a', 'b', 'c', 'd', 'e', 'f'];
    transactions = 0;
    const replies = await Promise.all(
      users.map((userId) => service.changePassword({ userId, origin: 'source', password: Buffer.from(`${userId}-Passw0rd-1`) })),
    );
    assert.ok(replies.every((r) => r.ok));
    // Two units per change (accept, record the outcome).
    assert.ok(transactions < users.length * 2, `${transactions} transactions for ${users.length * 2} units`);
    await flush();
    for (const userId of users) {
      assert.deepEqual(
        published.filter((e) => e.subject === userId).map((e) => e.type),
        [EventTypes.PasswordChanged, EventTypes.PasswordSynced],
        userId,
      );
    }
  });

  it('fails only the unit that throws; the others of its batch commit and their events are relayed', async () => {
    const outcomes = await Promise.allSettled(
      ['ok-1', 'bad', 'ok-2'].map((userId) =>
        service.changePassword({ userId, origin: 'source', password: Buffer.from(`${userId}-Passw0rd-1`) }),
      ),
    );
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    const repo = new PasswordCacheRepository();
    assert.equal((await runInTransaction(dataSource, (m) => repo.load(m, 'ok-1'))).status, 'synced');
    assert.equal((await runInTransaction(dataSource, (m) => repo.load(m, 'ok-2'))).status, 'synced');
    assert.equal((await runInTransaction(dataSource, (m) => repo.load(m, 'bad'))).status, 'empty', 'the failing unit left nothing behind');
    await flush();
    assert.deepEqual(
      published.filter((e) => e.subject === 'bad'),
      [],
      'and no event',
    );
  });
});

describe("PasswordCacheService: recording an attempt's outcome (real SQLite)", () => {
  /** Counts the reads of a user's row. */
  class CountingLoads extends PasswordCacheRepository {
    loads = 0;
    override async load(manager: EntityManager, userId: string): Promise<PasswordCacheState> {
      this.loads++;
      return super.load(manager, userId);
    }
  }
  /** Applies; before answering the first call, runs `during` (what happens while the directory works). */
  class AppliedAfter extends PasswordTarget {
    calls = 0;
    during: (() => Promise<unknown>) | undefined;
    async apply(): Promise<ApplyResult> {
      this.calls++;
      const during = this.during;
      this.during = undefined;
      if (during) await during();
      return { status: 'applied' };
    }
    describe(): string {
      return 'scripted:';
    }
  }
  const suite = suiteDatabase('pwsync-outcome');

  it('writes the outcome over the row the attempt started from without reading it again', async () => {
    const { dataSource } = suite;
    const repo = new CountingLoads();
    const published: IdmEvent[] = [];
    const { outbox, flush } = specOutbox(dataSource, (e) => Promise.resolve(void published.push(e)));
    const service = specService({ dataSource, repository: repo, target: new AppliedAfter(), outbox });
    assert.equal((await service.changePassword({ userId: 'once', origin: 'source', password: Buffer.from('Once-Passw0rd') })).ok, true);
    assert.equal(repo.loads, 1, "one read: the command's, none for the outcome");
    assert.equal((await runInTransaction(dataSource, (m) => repo.load(m, 'once'))).status, 'synced');
    await flush();
    assert.deepEqual(
      published.map((e) => [e.type, e.type === EventTypes.PasswordSynced ? e.data.attempt : undefined]),
      [
        [EventTypes.PasswordChanged, undefined],
        [EventTypes.PasswordSynced, 1],
      ],
    );
  });

  it('decides again on the fresh row when a newer password was cached during the attempt: the older outcome is dropped', async () => {
    const { dataSource } = suite;
    const repo = new CountingLoads();
    const clock = new ManualClock('2026-03-01T10:00:00.000Z');
    const target = new AppliedAfter();
    const published: IdmEvent[] = [];
    const { outbox, flush } = specOutbox(dataSource, (e) => Promise.resolve(void published.push(e)));
    const service = specService({ dataSource, repository: repo, target, outbox, clock });
    let newer: Promise<{ ok: boolean }> | undefined;
    // The newer change is accepted (committed) while the first attempt waits for the directory.
    target.during = async () => {
      clock.advance(1_000);
      newer = service.changePassword({ userId: 'race', origin: 'source', password: Buffer.from('Newer-Passw0rd') });
      await waitFor(
        async () => {
          const row = await runInTransaction(dataSource, (m) => repo.load(m, 'race'));
          return row.status !== 'empty' && row.changedAt === '2026-03-01T10:00:01.000Z';
        },
        { timeoutMs: 10_000, message: 'the newer change committed' },
      );
    };
    assert.equal((await service.changePassword({ userId: 'race', origin: 'source', password: Buffer.from('Older-Passw0rd') })).ok, true);
    assert.equal((await newer!).ok, true);
    const row = await runInTransaction(dataSource, (m) => repo.load(m, 'race'));
    assert.equal(row.status, 'synced');
    assert.equal(row.changedAt, '2026-03-01T10:00:01.000Z', 'the newer password is the one recorded');
    assert.equal(row.status === 'synced' && row.attempts, 1, "the older attempt's outcome was not counted for it");
    await flush();
    assert.deepEqual(
      published.map((e) => (e.type === EventTypes.PasswordSynced ? `synced ${e.data.attempt}` : e.type)),
      [EventTypes.PasswordChanged, EventTypes.PasswordChanged, 'synced 1'],
    );
  });
});
