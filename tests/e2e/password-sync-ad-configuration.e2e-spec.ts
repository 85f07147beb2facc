import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { CommandSubjects, type PasswordChangeReply } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import {
  freePort,
  sambaAdUnavailable,
  startNatsServer,
  startSambaAd,
  tempDir,
  waitFor,
  type NatsServerHandle,
  type SambaAdHandle,
} from '@idm/testing';
import { startApp, type AppProcess } from './app-process.fixture.js';

/**
 * password-sync as a process against a Samba AD DC, configured wrongly the ways an operator
 * would: it refuses plain LDAP at start (explicitly and when `auto` finds AD), and with a wrong
 * service password it starts, keeps the password cached, logs an error naming the settings and
 * counts it in `idm_password_target_configuration_problems_total`.
 */
describe('password-sync process against Samba AD: configuration mistakes are refused or reported', { skip: sambaAdUnavailable() }, () => {
  let nats: NatsServerHandle;
  let ad: SambaAdHandle;
  let nc: NatsConnection;
  let workDir: string;
  const apps: AppProcess[] = [];
  // One stream for every process here: a process creates it before it builds its target.
  const stream = `E2E_ADCFG_${randomBytes(3).toString('hex').toUpperCase()}`;
  const base = () => ({
    NATS_URL: nats.url,
    IDM_STREAM: stream,
    DATA_DIR: join(workDir, `data-${apps.length}-${randomBytes(3).toString('hex')}`),
    PASSWORD_CACHE_KEY: randomBytes(32).toString('base64'),
    HEALTH_PORT: 'off',
  });

  before(async () => {
    [nats, ad] = await Promise.all([startNatsServer({ jetstream: true }), startSambaAd()]);
    workDir = tempDir('e2e-ad-configuration');
    nc = await connectNats({ url: nats.url, name: 'e2e-ad-configuration' });
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await nc?.close();
    await Promise.all([ad?.stop(), nats?.dispose()]);
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** The DC's settings on plain ldap:// (without the TLS settings, which plain LDAP refuses on their own). */
  const plain = (dialect: string): Record<string, string> => {
    const env: Record<string, string> = {
      ...base(),
      ...ad.passwordTargetEnv,
      PASSWORD_TARGET: ad.ldapUrl,
      PASSWORD_TARGET_DIALECT: dialect,
    };
    delete env.PASSWORD_TARGET_TLS_CA_FILE;
    delete env.PASSWORD_TARGET_TLS_SERVER_NAME;
    return env;
  };

  it('refuses PASSWORD_TARGET_DIALECT=active-directory on plain ldap:// at start, saying why', async () => {
    await assert.rejects(
      startApp('password-sync', plain('active-directory'), workDir, { name: 'plain-explicit' }),
      /exited during start-up[\s\S]*only over an encrypted connection/,
    );
  });

  it('refuses auto on plain ldap:// once the rootDSE says Active Directory, before sending credentials', async () => {
    const env = plain('auto');
    await assert.rejects(
      startApp('password-sync', env, workDir, { name: 'plain-auto' }),
      /exited during start-up[\s\S]*is Active Directory: .*only over an encrypted connection/,
    );
  });

  it('with a wrong service password: starts, caches, logs an error naming the settings, and counts it', async () => {
    const healthPort = await freePort();
    const app = await startApp(
      'password-sync',
      { ...base(), ...ad.passwordTargetEnv, PASSWORD_TARGET_BIND_PASSWORD: 'Wrong-Service-Pass-1', HEALTH_PORT: String(healthPort) },
      workDir,
      { name: 'wrong-password' },
    );
    apps.push(app);
    await ad.createUser({ sAMAccountName: 'cfg.user', password: 'Initial-Pass-1' });
    const reply = (
      await nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId: 'cfg.user', password: 'Never-Applied-Pass-1' }), {
        timeout: 20_000,
      })
    ).json<PasswordChangeReply>();
    assert.equal(reply.ok, true, 'the change is accepted and cached');
    await app.waitForLog(
      /"level":"error".*fix the target configuration: the directory refused the service account's credentials \(49 invalidCredentials.*PASSWORD_TARGET_BIND_DN and PASSWORD_TARGET_BIND_PASSWORD/,
    );
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
        const value = /^idm_password_target_configuration_problems_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1];
        return value !== undefined && Number(value) >= 1 ? text : undefined;
      },
      { timeoutMs: 30_000, message: 'the configuration problem counted' },
    );
    assert.match(metrics, /idm_password_target_configuration_problems_total/);
    assert.equal(await ad.canBind('cfg.user', 'Initial-Pass-1'), true);
    assert.equal(app.log().includes('Never-Applied-Pass-1'), false);
    assert.equal(app.log().includes('Wrong-Service-Pass-1'), false);
  });
});
