import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { CommandSubjects, decodeEvent, directorySourceStatusReplySchema, type IdmEvent, type PasswordChangeReply } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import { OperationsClient } from '@idm/operations';
import {
  startNatsServer,
  startSlapd,
  startSmtpServer,
  tempDir,
  waitFor,
  type NatsServerHandle,
  type SlapdHandle,
  type SmtpServerHandle,
} from '@idm/testing';
import type { AppProcess } from './app-process.fixture.js';
import { startDirectoryLoop, type DirectoryLoop } from './directory-loop.fixture.js';

/**
 * The directory source as a process beside password-sync and the notifier, against a real slapd:
 * the closed loop (a password set before the account exists reaches it once the source sees the
 * account), and a crash in the middle of a poll (kill -9) that loses no change and repeats none.
 */
describe('directory source + password-sync + notifier as processes against slapd', () => {
  let nats: NatsServerHandle;
  let slapd: SlapdHandle;
  let smtp: SmtpServerHandle;
  let loop: DirectoryLoop | undefined;
  let source: AppProcess;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let workDir: string;
  let lastSeq = 0;
  const seen: IdmEvent[] = [];
  const stream = `E2E_DIRSRC_${randomBytes(3).toString('hex').toUpperCase()}`;

  before(async () => {
    [nats, slapd, smtp] = await Promise.all([
      startNatsServer({ jetstream: true }),
      startSlapd({ ppolicyMinLength: 8 }),
      startSmtpServer({ mode: 'accept' }),
    ]);
    workDir = tempDir('e2e-directory-source');
    await slapd.addUser('existing-1', { mail: 'existing1@example.com' });
    loop = await startDirectoryLoop({
      natsUrl: nats.url,
      stream,
      workDir,
      smtpUrl: smtp.url,
      sourceEnv: {
        SOURCE_URL: slapd.url,
        SOURCE_BIND_DN: slapd.serviceBindDn,
        SOURCE_BIND_PASSWORD: slapd.serviceBindPassword,
        SOURCE_BASE_DN: slapd.baseDn,
        SOURCE_DIALECT: 'openldap',
        SOURCE_INITIAL_SYNC: 'baseline',
      },
      targetEnv: {
        PASSWORD_TARGET: slapd.url,
        PASSWORD_TARGET_BIND_DN: slapd.serviceBindDn,
        PASSWORD_TARGET_BIND_PASSWORD: slapd.serviceBindPassword,
        PASSWORD_TARGET_BASE_DN: slapd.baseDn,
        PASSWORD_TARGET_TIMEOUT_MS: '3000',
      },
    });
    source = loop.source;
    nc = await connectNats({ url: nats.url, name: 'e2e-directory-source' });
    jsm = await jetstreamManager(nc);
  });

  after(async () => {
    await loop?.stop();
    await nc?.close();
    await Promise.all([slapd?.dispose(), smtp?.dispose(), nats?.dispose()]);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** Every event stored so far (read incrementally by sequence). */
  async function events(): Promise<IdmEvent[]> {
    const info = await jsm.streams.info(stream);
    for (let seq = Math.max(lastSeq + 1, info.state.first_seq); seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (m) seen.push(decodeEvent(m.data));
      lastSeq = seq;
    }
    return seen;
  }
  const about = async (userId: string, type: string) => (await events()).filter((e) => e.subject === userId && e.type === type);

  it('answers its status subject like the other apps (idm status, the console)', async () => {
    const reply: unknown = (await nc.request(CommandSubjects.DirectorySourceStatus, '{}', { timeout: 10_000 })).json();
    const status = directorySourceStatusReplySchema.parse(reply);
    assert.ok(status.ok, JSON.stringify(reply));
    assert.ok(status.snapshotUsers >= 1, 'the baseline recorded existing-1');
    assert.notEqual(status.lastCommittedAt, null);
    assert.equal(status.consecutiveFailures, 0);
    const report = await (await OperationsClient.on(nc, stream)).status();
    assert.deepEqual(
      report.apps.find((a) => a.name === 'directory-source'),
      { name: 'directory-source', up: true, version: status.version },
      'idm status and the console list it as up',
    );
  });

  it('a password set before the account exists is applied once the source sees the account, proven by binding', async () => {
    const password = `Closed-${randomBytes(4).toString('hex')}-Loop`;
    const msg = await nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId: 'newcomer', password }), { timeout: 20_000 });
    assert.equal(msg.json<PasswordChangeReply>().ok, true);
    await waitFor(async () => (await about('newcomer', 'idm.password.sync-failed')).length > 0, {
      timeoutMs: 30_000,
      message: 'PasswordSyncFailed(user-not-found)',
    });
    assert.equal((await about('newcomer', 'idm.password.sync-failed'))[0]?.data['reason' as never], 'user-not-found');

    await slapd.addUser('newcomer', { mail: 'newcomer@example.com' });
    await waitFor(async () => (await about('newcomer', 'idm.user.added')).length > 0, {
      timeoutMs: 30_000,
      message: 'UserAdded from the directory source',
    });
    await waitFor(async () => (await about('newcomer', 'idm.password.synced')).length > 0, {
      timeoutMs: 30_000,
      message: 'PasswordSynced',
    });
    assert.equal(await slapd.canBind(slapd.userDn('newcomer'), password), true);
    const added = await about('newcomer', 'idm.user.added');
    assert.equal(added.length, 1);
    assert.equal(added[0]?.source, '/idm/directory-source');
    assert.equal((await about('existing-1', 'idm.user.added')).length, 0, 'the baseline announced nobody');
  });

  it('kill -9 in the middle of a poll, then restart: every new account announced exactly once', async () => {
    const N = 3000;
    const users = Array.from({ length: N }, (_, i) => ({ uid: `bulk-${i}`, mail: `bulk-${i}@example.com` }));
    const before = (await events()).length;
    // Stop the source while the accounts are created, so they all land in one poll.
    await source.stop();
    await slapd.addUsers(users);
    await source.restart();
    const countAdded = async () => (await jsm.streams.info(stream)).state.messages - before;
    await waitFor(async () => (await countAdded()) > 0, {
      timeoutMs: 60_000,
      intervalMs: 5,
      message: 'the poll to start publishing',
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; directory-source log:\n${source.log().slice(-3000)}`);
    });
    await source.kill();
    const atKill = await countAdded();
    assert.ok(atKill < N, `the kill landed mid-poll (${atKill} of ${N} published)`);

    await source.restart();
    await waitFor(async () => (await events()).filter((e) => e.type === 'idm.user.added' && e.subject.startsWith('bulk-')).length >= N, {
      timeoutMs: 120_000,
      message: `${N} UserAdded after the restart`,
    });
    const added = (await events()).filter((e) => e.type === 'idm.user.added' && e.subject.startsWith('bulk-'));
    assert.equal(added.length, N, 'none twice');
    assert.deepEqual(new Set(added.map((e) => e.subject)), new Set(users.map((u) => u.uid)), 'none lost');
  });
});
