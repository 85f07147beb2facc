import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { BerWriter, Client } from 'ldapts';
import { jetstreamManager } from '@nats-io/jetstream';
import { CommandSubjects, type PasswordChangeReply } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import { startNatsServer, startSlapd, tempDir, waitFor } from '@idm/testing';

/**
 * 18,000 password changes (the seed's bulk example) through the whole path — command →
 * seal/cache → `PasswordChanged` → LDAP Password Modify → `PasswordSynced` — beside raw LDAP
 * Password Modify operations (ldapts, the same service account, the same slapd, the same
 * concurrency) in the same run. Goal: the pipeline under 30 s and at least half the raw rate.
 *
 *   BENCH_PASSWORDS (default 18000), BENCH_CONCURRENCY (default 32; also the LDAP pool size),
 *   BENCH_APP_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile password-sync)
 *
 * password-sync runs as its own process (`dist/apps/password-sync/main.js`) on SQLite, as in the
 * embedded set-up. A measurement, never a test: nothing here fails on time.
 */

const N = Number(process.env.BENCH_PASSWORDS ?? 18_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PASSWORD_MODIFY_OID = '1.3.6.1.4.1.4203.1.11.1';
const uid = (i: number) => `bench-${String(i).padStart(6, '0')}`;

/** Runs `work(i)` for i in [0, n) with `concurrency` workers; `setup` gives each worker its own resource. */
async function pool<R>(n: number, concurrency: number, setup: () => Promise<R>, work: (r: R, i: number) => Promise<void>, teardown: (r: R) => Promise<void>): Promise<number> {
  let next = 0;
  const resources = await Promise.all(Array.from({ length: concurrency }, setup));
  const started = performance.now();
  await Promise.all(
    resources.map(async (r) => {
      for (let i = next++; i < n; i = next++) await work(r, i);
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(resources.map(teardown));
  return elapsed;
}

function passwordModify(dn: string, password: string): Buffer {
  const writer = new BerWriter();
  writer.startSequence(0x30);
  writer.writeString(dn, 0x80);
  writer.writeString(password, 0x82);
  writer.endSequence();
  return writer.buffer;
}

async function main(): Promise<void> {
  const nats = await startNatsServer({ jetstream: true });
  const slapd = await startSlapd({ ppolicyMinLength: 8 });
  const workDir = tempDir('bench-password-sync');
  let app: ReturnType<typeof spawn> | undefined;
  try {
    const bound = (dn: string, password: string) => async () => {
      const client = new Client({ url: slapd.url, timeout: 30_000, connectTimeout: 10_000 });
      await client.bind(dn, password);
      return client;
    };
    const unbind = (client: Client) => client.unbind();

    const addSeconds = await pool(N, CONCURRENCY, bound(slapd.bindDn, slapd.bindPassword), async (client, i) => {
      await client.add(slapd.userDn(uid(i)), { objectClass: 'inetOrgPerson', uid: uid(i), cn: uid(i), sn: uid(i) });
    }, unbind);

    const rawSeconds = await pool(N, CONCURRENCY, bound(slapd.serviceBindDn, slapd.serviceBindPassword), async (client, i) => {
      await client.exop(PASSWORD_MODIFY_OID, passwordModify(slapd.userDn(uid(i)), `Raw-${i}-Passw0rd`));
    }, unbind);

    const stream = 'BENCH';
    const logFile = join(workDir, 'password-sync.log');
    const fd = openSync(logFile, 'a');
    app = spawn(process.execPath, [...(process.env.BENCH_APP_NODE_ARGS?.split(' ').filter(Boolean) ?? []), fileURLToPath(new URL('../apps/password-sync/main.js', import.meta.url))], {
      env: {
        PATH: process.env.PATH ?? '',
        NATS_URL: nats.url,
        IDM_STREAM: stream,
        DATA_DIR: join(workDir, 'data'),
        PASSWORD_CACHE_KEY: randomBytes(32).toString('base64'),
        PASSWORD_TARGET: slapd.url,
        PASSWORD_TARGET_BIND_DN: slapd.serviceBindDn,
        PASSWORD_TARGET_BIND_PASSWORD: slapd.serviceBindPassword,
        PASSWORD_TARGET_BASE_DN: slapd.baseDn,
        // The seed's rule of thumb for 18,000 passwords.
        PASSWORD_EXPIRATION_MINUTES: '300',
        LOG_LEVEL: 'warn',
        HEALTH_PORT: 'off',
        // The same LDAP concurrency as the raw run.
        PASSWORD_TARGET_POOL_SIZE: String(CONCURRENCY),
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const nc = await connectNats({ url: nats.url, name: 'bench' });
    // Ready when the responder answers (an invalid request changes nothing); LOG_LEVEL=warn hides the ready line.
    await waitFor(() => nc.request(CommandSubjects.PasswordChange, '{}', { timeout: 1_000 }).then(() => true), { timeoutMs: 30_000, message: `password-sync ready (log ${logFile})` });
    let failed = 0;
    const pipelineSeconds = await pool(N, CONCURRENCY, () => Promise.resolve(nc), async (c, i) => {
      const msg = await c.request(CommandSubjects.PasswordChange, JSON.stringify({ userId: uid(i), password: `Sync-${i}-Passw0rd` }), { timeout: 60_000 });
      if (!msg.json<PasswordChangeReply>().ok) failed++;
    }, () => Promise.resolve());
    // The reply comes after the first attempt's outcome is recorded: count what the log holds.
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream, { subjects_filter: 'idm.password.synced.>' });
    const synced = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    await nc.close();

    const rate = (s: number) => Math.round(N / s);
    const rows = [
      ['bulk add (set-up, rootdn)', N, addSeconds],
      ['raw LDAP Password Modify', N, rawSeconds],
      ['password-sync command → PasswordSynced', N, pipelineSeconds],
    ] as const;
    console.log(`\npassword-sync bench: ${N} passwords, concurrency ${CONCURRENCY}, slapd ${slapd.url}, SQLite\n`);
    console.log('| path | passwords | seconds | per second |');
    console.log('|---|---:|---:|---:|');
    for (const [name, n, s] of rows) console.log(`| ${name} | ${n} | ${s.toFixed(2)} | ${rate(s)} |`);
    const ratio = rawSeconds / pipelineSeconds;
    console.log(`\nPasswordSynced events: ${synced} of ${N}; failed replies: ${failed}`);
    console.log(`pipeline / raw rate: ${(ratio * 100).toFixed(0)} % (goal ≥ 50 %: ${ratio >= 0.5 ? 'met' : 'MISSED'}); under 30 s: ${pipelineSeconds < 30 ? 'met' : 'MISSED'}`);
  } catch (err) {
    console.error(`bench failed; password-sync's log ends with:\n${readFileSync(join(workDir, 'password-sync.log'), 'utf8').split('\n').slice(-40).join('\n')}`);
    throw err;
  } finally {
    if (app && app.exitCode === null) {
      const exited = new Promise((r) => app!.once('exit', r));
      app.kill('SIGTERM');
      await exited;
    }
    await slapd.dispose();
    await nats.dispose();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
