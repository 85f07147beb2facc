import { SystemClock } from '@idm/config';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { DataSource } from 'typeorm';
import type { IdmEvent } from '@idm/contracts';
import { connectNats, ensureEventStream, EventPublisher, readStreamInBatches } from '@idm/messaging';
import { startNatsServer, tempDir, type NatsServerHandle } from '@idm/testing';
import { openDirectorySourceDatabase } from './directory-source.database.js';
import { DIALECT_DEFAULTS, type SourceDialect } from './directory/dialect.js';
import { LdapDirectoryReader, type LdapSourceSettings } from './directory/ldap-directory-reader.js';
import { PollService, type PollReport, type PollSettings } from './poller/poll.service.js';
import { SnapshotRepository } from './snapshot/snapshot.repository.js';

// Spec support shared by the OpenLDAP and Active Directory specs (not a spec itself).
const quiet = { log: () => undefined, warn: () => undefined };

/** What a scenario does to a directory: the same story told to slapd and to Samba AD. */
export interface DirectoryDriver {
  readonly dialect: SourceDialect;
  readonly ldap: Omit<LdapSourceSettings, 'userFilter' | 'attributes' | 'pageSize' | 'overlapSeconds' | 'timeoutMs' | 'dialect'>;
  create(id: string, attrs: { mail?: string; displayName?: string; title?: string }): Promise<void>;
  modify(id: string, changes: Record<string, string | null>): Promise<void>;
  disable(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  moveOutOfScope(id: string): Promise<void>;
  /** An attribute the source does not report, to touch. */
  readonly unreportedAttribute: string;
}

export interface Harness {
  poll(force?: 'full'): Promise<PollReport>;
  /** The events of the stream so far (what consumers see; duplicates dropped by id). */
  stream(): Promise<IdmEvent[]>;
  readonly reader: LdapDirectoryReader;
  readonly service: PollService;
  readonly snapshot: SnapshotRepository;
  /** The spec's own connection to the harness's nats-server. */
  readonly nc: NatsConnection;
  close(): Promise<void>;
}

/**
 * A poll service over the real directory, a real nats-server of its own (one event stream per
 * server) and a fresh SQLite snapshot.
 */
export async function harness(driver: Pick<DirectoryDriver, 'ldap'>, overrides: Partial<PollSettings> = {}): Promise<Harness> {
  const nats: NatsServerHandle = await startNatsServer({ jetstream: true });
  const nc: NatsConnection = await connectNats({ url: nats.url, name: 'directory-source-spec' });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const streamName = `DIRSRC_${randomBytes(3).toString('hex')}`;
  await ensureEventStream(jsm, { name: streamName });
  const dataSource: DataSource = await openDirectorySourceDatabase({ dataDir: tempDir('dirsrc-spec') });
  const reader = new LdapDirectoryReader({
    ...driver.ldap,
    dialect: 'auto',
    userFilter: (d) => DIALECT_DEFAULTS[d].userFilter,
    attributes: ['uid', 'sAMAccountName', 'mail', 'displayName', 'title'],
    pageSize: 50,
    overlapSeconds: 10,
    timeoutMs: 10_000,
  });
  const snapshot = new SnapshotRepository(dataSource);
  const service = new PollService(
    { reader, snapshot, events: new EventPublisher(js), clock: new SystemClock(), logger: quiet },
    {
      mapping: { emailAttribute: 'mail', displayNameAttribute: 'displayName', reportedAttributes: ['title'] },
      fullScanCron: '0 3 * * *',
      initialSync: 'baseline',
      source: '/idm/directory-source',
      publishConcurrency: 16,
      removalGuardPercent: 20,
      ...overrides,
    },
  );
  return {
    reader,
    service,
    snapshot,
    nc,
    poll: (force) => service.poll(force),
    async stream() {
      const out: IdmEvent[] = [];
      await readStreamInBatches(js, jsm, { stream: streamName }, async (batch) => {
        for (const entry of batch) if (entry.event) out.push(entry.event);
      });
      return out;
    },
    async close() {
      await dataSource.destroy();
      await nc.close();
      await nats.dispose();
    },
  };
}

const brief = (events: readonly IdmEvent[]) => events.map((e) => ({ type: e.type, subject: e.subject, data: e.data as unknown }));

/** The story every directory must tell the same way. */
export function changeScenarios(name: string, start: () => Promise<DirectoryDriver | undefined>): void {
  describe(name, () => {
    let h: Harness | undefined;
    let driver: DirectoryDriver;
    before(async () => {
      const started = await start();
      if (!started) return;
      driver = started;
      h = await harness(driver);
    });
    after(async () => {
      await h?.close();
    });
    function step(title: string, body: (h: Harness) => Promise<void>): void {
      it(title, async (t) => {
        if (!h) return t.skip('directory not available (see the log above)');
        await body(h);
      });
    }

    step('first start with SOURCE_INITIAL_SYNC=baseline: the existing users are recorded, nothing is announced', async (h) => {
      await driver.create('ds-ada', { mail: 'ada@example.com', displayName: 'Ada Lovelace', title: 'Countess' });
      await driver.create('ds-bob', {});
      const report = await h.poll();
      assert.equal(report.kind, 'full');
      assert.equal(report.baseline, true);
      assert.deepEqual(report.events, []);
      assert.ok(report.entriesRead >= 2);
    });

    step('an account created: exactly one UserAdded, with email and display name', async (h) => {
      await driver.create('ds-carol', { mail: 'carol@example.com', displayName: 'Carol Shaw' });
      const report = await h.poll();
      assert.equal(report.kind, 'incremental');
      assert.deepEqual(
        brief(report.events).map((e) => [
          e.type,
          e.subject,
          (e.data as { email?: string }).email,
          (e.data as { displayName?: string }).displayName,
        ]),
        [['idm.user.added', 'ds-carol', 'carol@example.com', 'Carol Shaw']],
      );
    });

    step('a poll without changes announces nothing (entries in the overlap window are recognised by their stamp)', async (h) => {
      assert.deepEqual((await h.poll()).events, []);
    });

    step('a reported attribute modified: exactly one UserModified with only that change', async (h) => {
      await driver.modify('ds-ada', { title: 'Analyst' });
      assert.deepEqual(brief((await h.poll()).events), [
        { type: 'idm.user.modified', subject: 'ds-ada', data: { userId: 'ds-ada', changes: { title: 'Analyst' } } },
      ]);
    });

    step('an unreported attribute modified: nothing', async (h) => {
      await driver.modify('ds-ada', { [driver.unreportedAttribute]: `touched ${Date.now()}` });
      assert.deepEqual((await h.poll()).events, []);
    });

    step('a mail address appears: UserModified carries it as email', async (h) => {
      await driver.modify('ds-bob', { mail: 'bob@example.com' });
      assert.deepEqual(brief((await h.poll()).events), [
        {
          type: 'idm.user.modified',
          subject: 'ds-bob',
          data: { userId: 'ds-bob', email: 'bob@example.com', changes: { mail: 'bob@example.com' } },
        },
      ]);
    });

    step('an account disabled: UserModified changes.enabled = false', async (h) => {
      await driver.disable('ds-bob');
      assert.deepEqual(brief((await h.poll()).events), [
        { type: 'idm.user.modified', subject: 'ds-bob', data: { userId: 'ds-bob', changes: { enabled: false } } },
      ]);
    });

    step('deleted and moved out of the base DN: UserRemoved deleted / moved-out-of-scope at the full scan', async (h) => {
      await driver.remove('ds-carol');
      await driver.moveOutOfScope('ds-ada');
      const incremental = await h.poll();
      // Without Show Deleted rights (OpenLDAP has none) a change query cannot see an entry that left.
      assert.ok(incremental.events.every((e) => e.type === 'idm.user.removed'));
      const full = await h.poll('full');
      const removed = [...incremental.events, ...full.events].map((e) => [e.subject, (e.data as { reason: string }).reason]).sort();
      assert.deepEqual(removed, [
        ['ds-ada', 'moved-out-of-scope'],
        ['ds-carol', 'deleted'],
      ]);
      assert.deepEqual((await h.poll('full')).events, [], 'a second full scan finds nothing new');
    });

    step('the stream holds each announced change exactly once', async (h) => {
      const events = await h.stream();
      assert.deepEqual(
        events.map((e) => [e.type, e.subject]),
        [
          ['idm.user.added', 'ds-carol'],
          ['idm.user.modified', 'ds-ada'],
          ['idm.user.modified', 'ds-bob'],
          ['idm.user.modified', 'ds-bob'],
          ...events.filter((e) => e.type === 'idm.user.removed').map((e) => [e.type, e.subject]),
        ],
      );
      assert.equal(events.filter((e) => e.type === 'idm.user.removed').length, 2);
      assert.equal(new Set(events.map((e) => e.id)).size, events.length);
    });
  });
}
