import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { connectNats } from '@idm/messaging';
import { freePort, tempDir, waitFor } from '@idm/testing';
import { REPO_ROOT } from './repo-root.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start (scripts/dev-stack.mjs)', () => {
  it('brings the stack up, mails a new user, and stops every child on SIGINT', async () => {
    const dataDir = tempDir('idm-dev-stack-');
    const [nats, smtp, http, h1, h2, h3, h4, consolePort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DEV_DATA_DIR: dataDir,
      DEV_NATS_PORT: String(nats),
      DEV_SMTP_PORT: String(smtp),
      DEV_MAIL_HTTP_PORT: String(http),
      DEV_SCHEDULER_HEALTH_PORT: String(h1),
      DEV_NOTIFIER_HEALTH_PORT: String(h2),
      DEV_PASSWORD_SYNC_HEALTH_PORT: String(h3),
      DEV_DIRECTORY_SOURCE_HEALTH_PORT: String(h4),
      SOURCE_POLLING_INTERVAL_SECONDS: '1',
      DEV_CONSOLE_PORT: String(consolePort),
      EMAIL_RETRY_CRON: '*/2 * * * * *',
      NO_COLOR: '1',
    };
    delete env.NATS_URL;
    const stack = spawn(process.execPath, [join(REPO_ROOT, 'scripts/dev-stack.mjs')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    stack.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    stack.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => stack.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      // The banner's last line, so the check does not rest on how the banner is written (it was
      // one write per line once, and a poll between two of them failed CI, 2026-12-02).
      await waitFor(() => output.includes('Ctrl-C stops everything.') || stack.exitCode !== null, {
        timeoutMs: 120_000,
        intervalMs: 200,
        message: 'dev stack ready (the whole banner)',
      });
      assert.match(output, /dev stack ready/, output);
      const pids = [...output.matchAll(/(?:nats-server|scheduler|notifier|password-sync|directory-source|console) started, pid (\d+)/g)].map((m) => Number(m[1]));
      // The directory source runs when slapd is installed (CI installs it), and says so when not.
      const withDirectory = existsSync(join(dataDir, 'dev-slapd.json'));
      assert.equal(pids.length, withDirectory ? 6 : 5, output);
      if (!withDirectory) assert.match(output, /slapd is not installed/);
      assert.match(output, new RegExp(`console +http://127\\.0\\.0\\.1:${consolePort}/`));

      const ready = await fetch(`http://127.0.0.1:${h2}/health/ready`);
      assert.equal(ready.status, 200);
      // Authentication is on: without an identity nothing gets in; the directory-source role may add users.
      await assert.rejects(connectNats({ url: `nats://127.0.0.1:${nats}`, name: 'anonymous', connectTimeoutMs: 5_000 }), /Authorization|authentication/i);
      const idm = join(REPO_ROOT, 'dist/apps/cli/main.js');
      const anonymous = spawnSync(process.execPath, [idm, 'publish', 'user-added', '--server', `nats://127.0.0.1:${nats}`, '--user-id', 'eve', '--email', 'eve@example.com'], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH } });
      assert.notEqual(anonymous.status, 0);
      const roleEnv = join(dataDir, 'nats-auth', 'directory-source.env');
      assert.ok(output.includes(`--env-file ${roleEnv}`), 'the banner shows how to publish with an identity');
      // As the banner says: the CLI with the directory-source identity's file.
      const published = spawnSync(process.execPath, [idm, 'publish', 'user-added', '--server', `nats://127.0.0.1:${nats}`, '--env-file', roleEnv, '--user-id', 'grace', '--email', 'grace@example.com', '--display-name', 'Grace Hopper'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
      assert.equal(published.status, 0, published.stderr);
      assert.match(published.stdout, /published idm\.user\.added/);

      const index = join(dataDir, 'mail', 'index.jsonl');
      const mail = await waitFor(
        () => {
          if (!existsSync(index)) return undefined;
          return readFileSync(index, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { id: string; to: string[]; subject: string })
            .find((m) => m.to.includes('grace@example.com'));
        },
        { timeoutMs: 60_000, intervalMs: 200, message: 'the NEW_USER mail in the catcher' },
      );
      assert.match(mail.subject, /Welcome, Grace Hopper/);
      assert.match(readFileSync(join(dataDir, 'mail', `${mail.id}.eml`), 'utf8'), /grace/);
      if (withDirectory) {
        // An account created in the dev directory is announced by the source and welcomed by mail.
        const dev = JSON.parse(readFileSync(join(dataDir, 'dev-slapd.json'), 'utf8')) as { url: string; baseDn: string; bindDn: string; bindPassword: string };
        const admin = new Client({ url: dev.url });
        await admin.bind(dev.bindDn, dev.bindPassword);
        await admin.add(`uid=linus,${dev.baseDn}`, { objectClass: 'inetOrgPerson', uid: 'linus', cn: 'linus', sn: 'linus', mail: 'linus@example.com', displayName: 'Linus T' });
        await admin.unbind();
        await waitFor(() => existsSync(index) && readFileSync(index, 'utf8').includes('linus@example.com'), { timeoutMs: 60_000, intervalMs: 200, message: 'the NEW_USER mail of the directory account' });
      }
      const inbox = (await (await fetch(`http://127.0.0.1:${http}/api/messages`)).json()) as unknown[];
      assert.equal(inbox.length >= 1, true);
      // The console shows the catcher's inbox (loopback: no token in the dev stack).
      const viaConsole = (await (await fetch(`http://127.0.0.1:${consolePort}/api/mail`)).json()) as { enabled: boolean; messages: Array<{ id: string }> };
      assert.equal(viaConsole.enabled, true);
      assert.ok(viaConsole.messages.some((m) => m.id === mail.id));

      stack.kill('SIGINT');
      const result = await exited;
      assert.equal(result.code, 0, output);
      assert.match(output, /all stopped/);
      for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still running`);
      assert.doesNotMatch(output, /"level":/, 'app logs are shown as readable lines');
    } finally {
      if (stack.exitCode === null) {
        stack.kill('SIGKILL');
        for (const m of output.matchAll(/started, pid (\d+)/g)) if (alive(Number(m[1]))) process.kill(Number(m[1]), 'SIGKILL');
      }
    }
  });
});
