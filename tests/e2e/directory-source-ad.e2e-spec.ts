import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { CommandSubjects, type IdmEvent, type PasswordChangeReply } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import {
  sambaAdUnavailable,
  startNatsServer,
  startSambaAd,
  startSmtpServer,
  storedEvents,
  tempDir,
  waitFor,
  type NatsServerHandle,
  type SambaAdHandle,
  type SmtpServerHandle,
} from '@idm/testing';
import { startDirectoryLoop, type DirectoryLoop } from './directory-loop.fixture.js';

/**
 * The closed loop against a real Samba AD DC, every app a process: a password set before the
 * account exists → PasswordSyncFailed(user-not-found) → the account is created in AD → the
 * directory source (SOURCE_DIALECT=auto, LDAPS with the DC's CA) announces it → password-sync
 * resets it (unicodePwd) → the user binds with it. The DC's ports are fixed: the harness takes a
 * machine-wide lock, so this file may wait for another DC test.
 */
const unavailable = sambaAdUnavailable();

describe('directory source + password-sync + notifier against Active Directory (Samba AD DC)', { skip: unavailable }, () => {
  let nats: NatsServerHandle;
  let ad: SambaAdHandle;
  let smtp: SmtpServerHandle;
  let loop: DirectoryLoop | undefined;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let workDir: string;
  const stream = `E2E_DIRSRC_AD_${randomBytes(3).toString('hex').toUpperCase()}`;

  before(async () => {
    [nats, smtp] = await Promise.all([startNatsServer({ jetstream: true }), startSmtpServer({ mode: 'accept' })]);
    ad = await startSambaAd();
    workDir = tempDir('e2e-directory-source-ad');
    loop = await startDirectoryLoop(
      {
        natsUrl: nats.url,
        stream,
        workDir,
        smtpUrl: smtp.url,
        sourceEnv: {
          SOURCE_URL: ad.ldapsUrl,
          SOURCE_TLS_CA_FILE: ad.caFile,
          SOURCE_TLS_SERVER_NAME: ad.tlsServerName,
          SOURCE_BIND_DN: ad.serviceBindDn,
          SOURCE_BIND_PASSWORD: ad.serviceBindPassword,
          SOURCE_BASE_DN: ad.usersDn,
          SOURCE_DIALECT: 'auto',
        },
        targetEnv: {
          PASSWORD_TARGET: ad.ldapsUrl,
          PASSWORD_TARGET_DIALECT: 'active-directory',
          PASSWORD_TARGET_TLS_CA_FILE: ad.caFile,
          PASSWORD_TARGET_TLS_SERVER_NAME: ad.tlsServerName,
          PASSWORD_TARGET_BIND_DN: ad.serviceBindDn,
          PASSWORD_TARGET_BIND_PASSWORD: ad.serviceBindPassword,
          PASSWORD_TARGET_BASE_DN: ad.usersDn,
          PASSWORD_TARGET_USER_ATTRIBUTE: 'sAMAccountName',
        },
      },
      60_000,
    );
    nc = await connectNats({ url: nats.url, name: 'e2e-directory-source-ad' });
    jsm = await jetstreamManager(nc);
  });

  after(async () => {
    await loop?.stop();
    await nc?.close();
    await ad?.stop();
    await Promise.all([smtp?.dispose(), nats?.dispose()]);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  async function about(userId: string, type: string): Promise<IdmEvent[]> {
    return (await storedEvents(jsm, stream)).filter((e) => e.subject === userId && e.type === type);
  }

  it('a password set before the AD account exists is applied once the source announces it, proven by binding', async () => {
    const password = `Ad-Loop-${randomBytes(4).toString('hex')}-1a`;
    const reply = (
      await nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId: 'ad.newcomer', password }), { timeout: 30_000 })
    ).json<PasswordChangeReply>();
    assert.equal(reply.ok, true);
    await waitFor(async () => (await about('ad.newcomer', 'idm.password.sync-failed')).length > 0, {
      timeoutMs: 60_000,
      message: 'PasswordSyncFailed(user-not-found)',
    });
    const [failed] = await about('ad.newcomer', 'idm.password.sync-failed');
    assert.equal(failed?.type === 'idm.password.sync-failed' && failed.data.reason, 'user-not-found');

    await ad.createUser({ sAMAccountName: 'ad.newcomer', mail: 'ad.newcomer@example.com', displayName: 'AD Newcomer' });
    await waitFor(async () => (await about('ad.newcomer', 'idm.user.added')).length > 0, {
      timeoutMs: 60_000,
      message: 'UserAdded from the directory source',
    });
    await waitFor(async () => (await about('ad.newcomer', 'idm.password.synced')).length > 0, {
      timeoutMs: 60_000,
      message: 'PasswordSynced',
    });
    assert.equal(await ad.canBind('ad.newcomer', password), true);
    const [added] = await about('ad.newcomer', 'idm.user.added');
    assert.deepEqual(added?.type === 'idm.user.added' && [added.data.email, added.data.displayName, added.data.attributes?.['enabled']], [
      'ad.newcomer@example.com',
      'AD Newcomer',
      true,
    ]);
  });
});

if (unavailable) console.log(`# Active Directory closed loop skipped: ${unavailable}`);
