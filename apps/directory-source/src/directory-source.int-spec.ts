import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from 'ldapts';
import { CommandSubjects, directorySourceStatusReplySchema, type DirectorySourceStatusReply } from '@idm/contracts';
import { startSlapd, type SlapdHandle } from '@idm/testing';
import { changeScenarios, harness, type DirectoryDriver } from './directory-scenarios.fixture.js';
import { DirectoryBindError, DirectoryUnavailableError } from './directory/directory-reader.js';
import { LdapDirectoryReader } from './directory/ldap-directory-reader.js';
import { PollLoop } from './poller/poll-loop.js';
import { RemovalGuardError } from './poller/poll.service.js';
import { DirectorySourceStatusResponder } from './status/directory-source-status.responder.js';

describe('directory source against OpenLDAP (real slapd, nats-server, SQLite)', () => {
  let slapd: SlapdHandle;

  before(async () => {
    slapd = await startSlapd();
  });
  after(async () => {
    await slapd?.dispose();
  });
  const ldap = () => ({
    url: slapd.url,
    startTls: false,
    bindDn: slapd.serviceBindDn,
    bindPassword: slapd.serviceBindPassword,
    baseDn: slapd.baseDn,
  });

  changeScenarios('OpenLDAP (slapd)', async () => {
    const driver: DirectoryDriver = {
      dialect: 'openldap',
      ldap: ldap(),
      create: async (id, attrs) => void (await slapd.addUser(id, attrs)),
      modify: (id, changes) => slapd.modifyUser(id, changes),
      disable: (id) => slapd.lockUser(id),
      remove: (id) => slapd.deleteUser(id),
      moveOutOfScope: async (id) => void (await slapd.moveUser(id, slapd.outOfScopeDn)),
      unreportedAttribute: 'description',
    };
    return driver;
  });

  describe('faults (slapd)', () => {
    it('an entry without the id attribute is skipped with a warning; a bad mail value leaves the events without email', async () => {
      const h = await harness({ ldap: ldap() }, { initialSync: 'emit' });
      try {
        const admin = new Client({ url: slapd.url });
        await admin.bind(slapd.bindDn, slapd.bindPassword);
        await admin.add(`cn=no-uid,${slapd.baseDn}`, { objectClass: 'inetOrgPerson', cn: 'no-uid', sn: 'x' });
        await admin.unbind();
        await slapd.addUser('ds-badmail', { mail: 'not an address' });
        const report = await h.poll();
        assert.equal(report.skipped.get('missing-user-id'), 1);
        assert.equal(report.warnings.get('invalid-email'), 1);
        const added = report.events.find((e) => e.subject === 'ds-badmail');
        assert.equal(added?.type, 'idm.user.added');
        assert.equal('email' in (added?.data ?? {}), false);
        assert.ok(report.events.every((e) => e.subject !== 'no-uid'));
      } finally {
        await h.close();
      }
    });

    it('a full scan that would remove most users (a directory seen empty) is refused, nothing announced', async () => {
      const h = await harness({ ldap: ldap() });
      try {
        for (let i = 0; i < 12; i++) await slapd.addUser(`guard-${i}`);
        assert.equal((await h.poll()).baseline, true);
        for (let i = 0; i < 12; i++) await slapd.deleteUser(`guard-${i}`);
        await assert.rejects(
          h.poll('full'),
          (err: unknown) => err instanceof RemovalGuardError && /would remove 12 of \d+ users/.test(err.message),
        );
        assert.deepEqual(await h.stream(), []);
        assert.equal(
          (await h.poll('full').catch((e: unknown) => e)) instanceof RemovalGuardError,
          true,
          'still refused: the snapshot was not changed',
        );
      } finally {
        await h.close();
      }
    });

    it('directory down or credentials refused: the poll fails, readiness turns false after consecutive failures, and recovers; the status subject says so', async () => {
      const h = await harness({ ldap: ldap() });
      const warnings: string[] = [];
      const loop = new PollLoop(
        h.service,
        { intervalMs: 3_600_000, unreadyAfter: 2 },
        { log: () => undefined, warn: (m) => warnings.push(m) },
      );
      const responder = new DirectorySourceStatusResponder(h.nc, h.snapshot, loop);
      responder.onApplicationBootstrap();
      const status = async (): Promise<DirectorySourceStatusReply> => {
        const reply: unknown = (await h.nc.request(CommandSubjects.DirectorySourceStatus, '{}', { timeout: 5_000 })).json();
        return directorySourceStatusReplySchema.parse(reply);
      };
      try {
        const before = await status();
        assert.equal(before.ok, true);
        assert.deepEqual(before.ok && [before.snapshotUsers, before.lastCommittedAt, before.lastSuccessAt], [0, null, null]);
        await loop.runOnce();
        const polled = await status();
        assert.ok(polled.ok && polled.snapshotUsers === (await h.snapshot.count()) && polled.lastCommittedAt !== null);
        await slapd.stop();
        await assert.rejects(loop.runOnce(), DirectoryUnavailableError);
        assert.equal(loop.ready, true, 'one failure is not yet unready');
        await assert.rejects(loop.runOnce(), DirectoryUnavailableError);
        assert.equal(loop.ready, false);
        assert.match(
          warnings.at(-1) ?? '',
          /poll failed \(2 in a row\).*readiness is now false: DirectoryUnavailableError \[IDM_SOURCE_DIRECTORY_UNAVAILABLE\]/,
        );
        const down = await status();
        assert.ok(down.ok);
        assert.equal(down.consecutiveFailures, 2);
        assert.match(down.lastError ?? '', /^DirectoryUnavailableError \[IDM_SOURCE_DIRECTORY_UNAVAILABLE\]/);
        assert.equal(down.lastError?.includes(slapd.serviceBindPassword), false, 'never the bind password');
        await slapd.start();
        await loop.runOnce();
        assert.equal(loop.ready, true);
        const recovered = await status();
        assert.ok(recovered.ok && recovered.consecutiveFailures === 0 && recovered.lastError === null && recovered.lastSuccessAt !== null);
      } finally {
        await responder.beforeApplicationShutdown();
        await slapd.start();
        await loop.stop();
        await h.close();
      }
      const wrongPassword = new LdapDirectoryReader({
        url: slapd.url,
        startTls: false,
        bindDn: slapd.serviceBindDn,
        bindPassword: 'wrong',
        baseDn: slapd.baseDn,
        dialect: 'openldap',
        userFilter: () => '(objectClass=inetOrgPerson)',
        attributes: ['uid'],
        pageSize: 10,
        overlapSeconds: 0,
        timeoutMs: 5_000,
      });
      await assert.rejects(wrongPassword.open(), (err: unknown) => err instanceof DirectoryBindError && !err.message.includes('wrong'));
    });
  });
});
