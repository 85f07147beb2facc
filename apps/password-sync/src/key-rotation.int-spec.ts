import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { INestMicroservice } from '@nestjs/common';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { CommandSubjects, createEvent, EventTypes, type IdmEvent, type PasswordChangeReply } from '@idm/contracts';
import { connectNats, EventPublisher } from '@idm/messaging';
import {
  fakePasswordConnector,
  specMessagingConfig,
  startNatsServer,
  storedEvents,
  testDatabaseOf,
  testDatabases,
  waitFor,
  type NatsServerHandle,
  type TestDatabase,
} from '@idm/testing';
import { resolveExpirationPolicy } from './expiry/expiration-policy.js';
import { PasswordCacheRepository } from './password-cache/password-cache.repository.js';
import { PasswordCacheService } from './password-cache/password-cache.service.js';
import { openPasswordSyncDatabase } from './password-sync.database.js';
import { keyIdOf, PasswordSealer } from './password-cache/sealed-secret.js';
import { specOutbox } from './password-cache/spec-support/spec-outbox.js';
import { startPasswordSyncInProcess } from './password-sync-app.fixture.js';
import { SystemClock } from '@idm/config';
import type { PasswordSyncConfig } from './password-sync.config.js';
import { PasswordTarget, type ApplyResult } from './targets/password-target.js';

const CONNECTOR = 'spec.connector.passwords';

interface KeysStatus {
  current: string;
  previous: string[];
  cachedByKey: Record<string, number>;
  sealedWithPreviousKey: number;
  sealedWithUnknownKey: number;
}

/** What the directory connector answers, and every password it was handed (to check they are intact). */
const directory = { known: new Set<string>(), received: new Map<string, string>() };

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`password cache key rotation on ${kind} (password-sync app, real nats-server)`, () => {
    let db: TestDatabase;
    let nats: NatsServerHandle;
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    let publisher: EventPublisher;
    let connector: Subscription;
    let app: INestMicroservice | undefined;
    const stream = `ROTATE_${randomBytes(3).toString('hex')}`;
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    const passwords = { alice: `Alice-${randomBytes(4).toString('hex')}`, bob: `Bob-${randomBytes(4).toString('hex')}` };

    before(async () => {
      db = await testDatabaseOf(kind);
      if (db.unavailable !== undefined) return;
      nats = await startNatsServer({ jetstream: true });
      nc = await connectNats({ url: nats.url, name: 'rotation-spec' });
      jsm = await jetstreamManager(nc);
      publisher = new EventPublisher(jetstream(nc));
      connector = fakePasswordConnector(nc, CONNECTOR, ({ userId, password }) => {
        const known = directory.known.has(`${kind}:${userId}`);
        if (known) directory.received.set(`${kind}:${userId}`, password);
        return { status: known ? 'applied' : 'user-not-found' };
      });
    });
    after(async () => {
      await app?.close();
      connector?.unsubscribe();
      await nc?.close();
      await nats?.dispose();
      if (db && db.unavailable === undefined) await db.dispose();
    });

    /** Starts password-sync with `key` current and `previous` keys, as after a restart with new config. */
    async function startApp(key: Buffer, previous: Buffer[]): Promise<void> {
      await app?.close();
      const config: PasswordSyncConfig = {
        ...(db.kind === 'sqlite' && db.unavailable === undefined ? { dataDir: db.dataDir } : { dataDir: '.' }),
        ...(db.kind === 'postgres' && db.unavailable === undefined ? { databaseUrl: db.databaseUrl, schema: db.schema } : {}),
        key: { key, previous, source: 'env', warnings: [] },
        policy: resolveExpirationPolicy({ PASSWORD_EXPIRATION_MINUTES: '60' }),
        target: { PASSWORD_TARGET: `nats:${CONNECTOR}`, PASSWORD_TARGET_USER_ATTRIBUTE: 'uid', PASSWORD_TARGET_TIMEOUT_MS: 5_000 },
        sweepIntervalMs: 3_600_000,
        resealIntervalMs: 3_600_000,
        commandQueue: 'password-sync',
      };
      app = await startPasswordSyncInProcess({
        config,
        messaging: specMessagingConfig({ url: nats.url, stream, name: 'rotation-app', concurrency: 2 }),
      });
    }

    async function keysStatus(): Promise<KeysStatus> {
      const reply = await nc.request('idm.cmd.password-sync.status', '{}', { timeout: 5_000 });
      return reply.json<{ keys: KeysStatus }>().keys;
    }

    async function passwordEvents(userId: string): Promise<IdmEvent[]> {
      return (await storedEvents(jsm, stream)).filter((e) => e.subject === userId && e.type.startsWith('idm.password.'));
    }

    async function addToDirectoryAndAnnounce(userId: string): Promise<void> {
      directory.known.add(`${kind}:${userId}`);
      await publisher.publish(
        createEvent(EventTypes.UserAdded, userId, { userId, email: `${userId}@example.com` }, { source: '/spec', time: new Date() }),
      );
      await waitFor(async () => (await passwordEvents(userId)).some((e) => e.type === EventTypes.PasswordSynced), {
        message: `PasswordSynced for ${userId}`,
        timeoutMs: 20_000,
      });
    }

    it('caches passwords under key A', async (t) => {
      if (db.unavailable !== undefined) return t.skip(db.unavailable);
      await startApp(keyA, []);
      for (const [userId, password] of Object.entries(passwords)) {
        const reply = (
          await nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId, password }), { timeout: 20_000 })
        ).json<PasswordChangeReply>();
        assert.equal(reply.ok, true);
      }
      const keys = await keysStatus();
      assert.equal(keys.current, keyIdOf(keyA));
      assert.deepEqual(keys.cachedByKey, { [keyIdOf(keyA)]: 2 });
      assert.equal(keys.sealedWithPreviousKey, 0);
    });

    it('restarted with B current and A previous: re-seals every row under B and still applies the cached password', async (t) => {
      if (db.unavailable !== undefined) return t.skip(db.unavailable);
      await startApp(keyB, [keyA]);
      // The start-up pass moves both rows; the status shows the count falling to 0.
      const keys = await waitFor(
        async () => {
          const k = await keysStatus();
          return k.sealedWithPreviousKey === 0 ? k : undefined;
        },
        { message: 'rows re-sealed under key B', timeoutMs: 20_000 },
      );
      assert.deepEqual(keys, {
        current: keyIdOf(keyB),
        previous: [keyIdOf(keyA)],
        cachedByKey: { [keyIdOf(keyB)]: 2 },
        sealedWithPreviousKey: 0,
        sealedWithUnknownKey: 0,
      });
      await addToDirectoryAndAnnounce('alice');
      assert.equal(directory.received.get(`${kind}:alice`), passwords.alice);
    });

    it('after re-sealing, key A can be removed: the remaining cached password is applied with B alone', async (t) => {
      if (db.unavailable !== undefined) return t.skip(db.unavailable);
      await startApp(keyB, []);
      assert.deepEqual(await keysStatus(), {
        current: keyIdOf(keyB),
        previous: [],
        cachedByKey: { [keyIdOf(keyB)]: 1 },
        sealedWithPreviousKey: 0,
        sealedWithUnknownKey: 0,
      });
      await addToDirectoryAndAnnounce('bob');
      assert.equal(directory.received.get(`${kind}:bob`), passwords.bob);
      assert.deepEqual((await keysStatus()).cachedByKey, {});
    });

    it('a row under a key nobody holds any more is reported, not silently kept', async (t) => {
      if (db.unavailable !== undefined) return t.skip(db.unavailable);
      // Cached under B; then B is dropped without a pass having moved the row to C.
      assert.equal(
        (
          await nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId: 'carol', password: 'Carol-pass-1' }), {
            timeout: 20_000,
          })
        ).json<PasswordChangeReply>().ok,
        true,
      );
      const keyC = randomBytes(32);
      await startApp(keyC, []);
      const keys = await keysStatus();
      assert.equal(keys.sealedWithUnknownKey, 1);
      assert.equal(keys.sealedWithPreviousKey, 0);
      assert.deepEqual(keys.cachedByKey, { [keyIdOf(keyB)]: 1 });
    });
  });
}

/** A target that answers from a list and remembers what it was given. */
class ScriptedTarget extends PasswordTarget {
  readonly received: string[] = [];
  constructor(private readonly answer: () => ApplyResult) {
    super();
  }
  apply(_userId: string, password: Buffer | string): Promise<ApplyResult> {
    this.received.push(Buffer.isBuffer(password) ? password.toString('utf8') : password);
    return Promise.resolve(this.answer());
  }
  describe(): string {
    return 'scripted://target';
  }
}

describe('re-seal on use (service and SQLite, no background pass)', () => {
  it('an attempt that opens a row with a previous key stores it under the current key, even when the attempt fails', async () => {
    const [sqlite, pg] = await testDatabases();
    if (pg.unavailable === undefined) await pg.dispose();
    const dataSource = await openPasswordSyncDatabase({ dataDir: sqlite.dataDir });
    try {
      const repository = new PasswordCacheRepository();
      // Events stay in the outbox: this spec looks at the sealed rows only.
      const { outbox } = specOutbox(dataSource);
      const keyA = randomBytes(32);
      const keyB = randomBytes(32);
      const service = (sealer: PasswordSealer, target: PasswordTarget) =>
        new PasswordCacheService({
          dataSource,
          repository,
          sealer,
          target,
          outbox,
          clock: new SystemClock(),
          policy: { minutes: 60 },
          logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
          consumer: 'password-sync',
        });
      const notFound = new ScriptedTarget(() => ({ status: 'user-not-found', message: 'no such user' }));
      assert.equal(
        (
          await service(new PasswordSealer(keyA), notFound).changePassword({
            userId: 'dave',
            origin: 'source',
            password: Buffer.from('Dave-pass-1'),
          })
        ).ok,
        true,
      );
      assert.deepEqual(await repository.cachedByKey(dataSource.manager), { [keyIdOf(keyA)]: 1 });

      const userAdded = createEvent(
        EventTypes.UserAdded,
        'dave',
        { userId: 'dave', email: 'dave@example.com' },
        { source: '/spec', time: new Date() },
      );
      await service(new PasswordSealer(keyB, [keyA]), notFound).onUserChanged(userAdded, 1);
      assert.deepEqual(notFound.received, ['Dave-pass-1', 'Dave-pass-1']);
      assert.deepEqual(await repository.cachedByKey(dataSource.manager), { [keyIdOf(keyB)]: 1 });

      const applied = new ScriptedTarget(() => ({ status: 'applied' }));
      const userModified = createEvent(
        EventTypes.UserModified,
        'dave',
        { userId: 'dave', changes: { title: 'x' } },
        { source: '/spec', time: new Date() },
      );
      await service(new PasswordSealer(keyB), applied).onUserChanged(userModified, 2);
      assert.deepEqual(applied.received, ['Dave-pass-1']);
      assert.deepEqual(await repository.cachedByKey(dataSource.manager), {});
    } finally {
      await dataSource.destroy();
      await sqlite.dispose();
    }
  });
});
