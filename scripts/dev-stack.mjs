#!/usr/bin/env node
// The whole system on one machine (`npm start`): a local nats-server with JetStream, a mail catcher
// (SMTP on loopback + a web inbox), a dev password directory, and the apps on embedded SQLite —
// readable logs in one terminal, Ctrl-C stops everything. See docs/operations.md.
// Authentication is on, as in production: `idm nats-config` writes one nkey per role into
// <data>/nats-auth (kept across runs), `idm setup` creates the streams with the admin identity,
// and each app connects with its own role.
// When `slapd` is installed, a small local OpenLDAP (fresh on every start) and the directory
// source polling it run too: add an inetOrgPerson under its base DN and the source announces it.
//
// Environment (all optional):
//   DEV_DATA_DIR          data folder (default .data): nats/, mail/, <app>/ SQLite + cache key
//   NATS_URL              use this NATS server (with JetStream) instead of starting one; the apps
//                         then use NATS_NKEY_SEED_FILE / NATS_USER … from this environment as given
//   DEV_NATS_PORT         port of the started nats-server (4222)
//   DEV_SMTP_PORT         mail catcher SMTP port (1025); DEV_MAIL_HTTP_PORT web inbox (8025)
//   DEV_SCHEDULER_HEALTH_PORT / DEV_NOTIFIER_HEALTH_PORT / DEV_PASSWORD_SYNC_HEALTH_PORT (9101-9103)
//   DEV_CONSOLE_PORT      the operator console (9110, loopback, no token; actions on unless
//                         CONSOLE_ALLOW_ACTIONS=false); it also shows the mail catcher's inbox
//   EMAIL_RETRY_CRON      how often pending emails are sent (dev default: every 10 s)
//   PASSWORD_TARGET       default nats:idm.dev.directory (the built-in dev directory)
//   DEV_DIRECTORY_SOURCE_HEALTH_PORT (9104); SOURCE_POLLING_INTERVAL_SECONDS (dev default 5)
//   DEV_JSON_LOGS=true    print the apps' JSON lines as they are
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNats, messagingConfigFromEnv } from '@idm/messaging';
import { startSlapd } from '@idm/testing';
import { startDevDirectory, DEV_DIRECTORY_SUBJECT } from './dev-stack/dev-directory.mjs';
import { startMailCatcher } from './dev-stack/mail-catcher.mjs';
import { findNatsServer, NATS_MISSING, startNats } from './dev-stack/nats.mjs';
import { onChildLines } from './dev-stack/child-lines.mjs';
import { prettyLine } from './dev-stack/pretty-log.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const port = (name, fallback) => Number(env[name] ?? fallback);
/**
 * The port to use for `name`: exactly the one given in the environment, else `fallback` when it
 * is free, else any free port (a fresh machine may already run a nats-server on 4222).
 */
async function pickPort(name, fallback) {
  if (env[name]) return Number(env[name]);
  if (await isFree(fallback)) return fallback;
  const other = await freePort();
  say('dev-stack', `port ${fallback} is in use; using ${other} instead (set ${name} to choose)`);
  return other;
}
function isFree(p) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(p));
    });
  });
}
const dataDir = resolve(root, env.DEV_DATA_DIR ?? '.data');
const colour = process.stdout.isTTY && !env.NO_COLOR;
const json = env.DEV_JSON_LOGS === 'true';
const line = (source, msg) => `${prettyLine(source, JSON.stringify({ level: 'info', time: new Date().toISOString(), msg }), colour)}\n`;
const say = (source, msg) => process.stdout.write(line(source, msg));
/** Several lines in one write: whoever waits for the first (`dev stack ready`) gets the rest with it. */
const sayAll = (source, msgs) => process.stdout.write(msgs.map((msg) => line(source, msg)).join(''));

const apps = [
  { name: 'scheduler', healthPortVar: 'DEV_SCHEDULER_HEALTH_PORT', healthPort: 9101 },
  { name: 'notifier', healthPortVar: 'DEV_NOTIFIER_HEALTH_PORT', healthPort: 9102 },
  { name: 'password-sync', healthPortVar: 'DEV_PASSWORD_SYNC_HEALTH_PORT', healthPort: 9103 },
  // The console serves its probes on its own port.
  { name: 'console', healthPortVar: 'DEV_CONSOLE_PORT', healthPort: 9110 },
];

const running = []; // { name, child, exited: Promise }
let nats; // started nats-server child
let catcher;
let directory;
let devSlapd; // the local OpenLDAP the directory source polls, when slapd is installed
let nc;
let stopping = false;

async function main() {
  for (const app of apps) {
    if (!existsSync(join(root, 'dist/apps', app.name, 'main.js')))
      fail(`dist/apps/${app.name}/main.js is missing: run \`npm run build\` first (\`npm start\` does both).`);
  }
  mkdirSync(dataDir, { recursive: true });
  process.on('SIGINT', () => void stop(0, 'SIGINT'));
  process.on('SIGTERM', () => void stop(0, 'SIGTERM'));
  process.on('exit', () => {
    // Last resort (an uncaught error): never leave children behind.
    for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    if (nats && nats.exitCode === null) nats.kill('SIGKILL');
  });

  let natsUrl = env.NATS_URL;
  // Per-role NATS settings (NATS_NKEY_SEED_FILE, NATS_INBOX_PREFIX); empty with an external server.
  let roleEnv = () => ({});
  const roleConnection = (role) => ({ nkeySeedFile: roleEnv(role).NATS_NKEY_SEED_FILE, inboxPrefix: roleEnv(role).NATS_INBOX_PREFIX });
  const stream = env.IDM_STREAM ? { IDM_STREAM: env.IDM_STREAM } : {};
  if (!natsUrl) {
    const bin = findNatsServer();
    if (!bin) fail(NATS_MISSING);
    const natsPort = await pickPort('DEV_NATS_PORT', 4222);
    const authDir = join(dataDir, 'nats-auth');
    idm(['nats-config', '--out', authDir, '--connector-subject', DEV_DIRECTORY_SUBJECT], stream);
    const configFile = join(authDir, 'nats-server.conf');
    writeFileSync(configFile, 'include "idm-auth.conf"\n');
    roleEnv = (role) => readEnvFile(join(authDir, `${role}.env`));
    nats = await startNats({
      bin,
      port: natsPort,
      storeDir: join(dataDir, 'nats'),
      configFile,
      onLine: (l) => process.stdout.write(`${prettyLine('nats', l, colour)}\n`),
    });
    trackDetached(nats);
    say('dev-stack', `nats-server started, pid ${nats.pid}, JetStream store ${join(dataDir, 'nats')}`);
    natsUrl = `nats://127.0.0.1:${natsPort}`;
    nats.once('exit', () => void (stopping || stop(1, 'nats-server exited')));
    // The streams are created once, by the admin identity; the apps' roles may not create them.
    idm(['setup'], { ...stream, NATS_URL: natsUrl, ...roleEnv('admin') });
    say('dev-stack', `authentication on: one nkey per role in ${authDir}; streams set up with the admin identity`);
  }

  catcher = await startMailCatcher({
    dir: join(dataDir, 'mail'),
    smtpPort: await pickPort('DEV_SMTP_PORT', 1025),
    httpPort: await pickPort('DEV_MAIL_HTTP_PORT', 8025),
    log: (m) => say('mail', m),
  });
  // The dev directory plays the upstream directory: it learns users from idm.user.added and
  // answers as the password connector. It runs with the admin identity (dev tooling only).
  // With an external server, the shell's NATS_* settings (credentials, TLS) as the apps get them.
  const connection = nats
    ? { url: natsUrl, ...roleConnection('admin') }
    : messagingConfigFromEnv('dev-stack', { ...env, NATS_URL: natsUrl }).connection;
  nc = await connectNats({ ...connection, name: 'idm-dev-stack' });
  directory = startDevDirectory({ nc, file: join(dataDir, 'dev-directory.json'), log: (m) => say('directory', m) });

  const slapdBin = ['/usr/sbin/slapd', '/usr/local/sbin/slapd'].find((p) => existsSync(p));
  const sourceEnv = {};
  if (slapdBin) {
    devSlapd = await startSlapd();
    // The dev directory is fresh on every start, so the source's snapshot must be too.
    rmSync(join(dataDir, 'directory-source'), { recursive: true, force: true });
    const credentials = join(dataDir, 'dev-slapd.json');
    writeFileSync(
      credentials,
      JSON.stringify({ url: devSlapd.url, baseDn: devSlapd.baseDn, bindDn: devSlapd.bindDn, bindPassword: devSlapd.bindPassword }, null, 2),
      { mode: 0o600 },
    );
    say('directory', `slapd (OpenLDAP) on ${devSlapd.url}, users under ${devSlapd.baseDn}; admin credentials in ${credentials}`);
    apps.push({ name: 'directory-source', healthPortVar: 'DEV_DIRECTORY_SOURCE_HEALTH_PORT', healthPort: 9104 });
    Object.assign(sourceEnv, {
      SOURCE_URL: devSlapd.url,
      SOURCE_BIND_DN: devSlapd.serviceBindDn,
      SOURCE_BIND_PASSWORD: devSlapd.serviceBindPassword,
      SOURCE_BASE_DN: devSlapd.baseDn,
      SOURCE_DIALECT: 'openldap',
    });
  } else {
    say(
      'dev-stack',
      'slapd is not installed (apt-get install slapd): the directory source does not run; publish users with npx idm publish user-added',
    );
  }

  const shared = { ...env, NATS_URL: natsUrl, SOURCE_POLLING_INTERVAL_SECONDS: env.SOURCE_POLLING_INTERVAL_SECONDS ?? '5' };
  for (const k of ['DATABASE_URL', 'HEALTH_PORT', 'DATA_DIR']) delete shared[k];
  // With our own server, each app gets its role's identity and nothing from this shell.
  if (nats) for (const k of ['NATS_USER', 'NATS_PASSWORD', 'NATS_CREDS', 'NATS_NKEY_SEED_FILE', 'NATS_INBOX_PREFIX']) delete shared[k];
  const own = {
    scheduler: { EMAIL_RETRY_CRON: env.EMAIL_RETRY_CRON ?? '*/10 * * * * *' },
    notifier: { SMTP_URL: `smtp://127.0.0.1:${catcher.smtpPort}`, MAIL_FROM: env.MAIL_FROM ?? 'IDM (dev) <noreply@example.com>' },
    'password-sync': { IDM_EMBEDDED: 'true', PASSWORD_TARGET: env.PASSWORD_TARGET ?? `nats:${DEV_DIRECTORY_SUBJECT}` },
    'directory-source': sourceEnv,
    console: {
      CONSOLE_HOST: '127.0.0.1',
      CONSOLE_MAIL_DIR: join(dataDir, 'mail'),
      CONSOLE_ALLOW_ACTIONS: env.CONSOLE_ALLOW_ACTIONS ?? 'true',
    },
  };
  for (const app of apps) app.healthPort = await pickPort(app.healthPortVar, app.healthPort);
  const consoleApp = apps.find((a) => a.name === 'console');
  own.console.CONSOLE_PORT = String(consoleApp.healthPort);
  for (const app of apps) {
    const child = spawn(process.execPath, [join(root, 'dist/apps', app.name, 'main.js')], {
      cwd: root,
      env: { ...shared, ...roleEnv(app.name), ...own[app.name], DATA_DIR: join(dataDir, app.name), HEALTH_PORT: String(app.healthPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a terminal's Ctrl-C reaches only this script, which then stops each
      // app once, in order (a second signal would cut a Nest shutdown short).
      detached: true,
    });
    say('dev-stack', `${app.name} started, pid ${child.pid}`);
    pipeLines(app.name, child);
    const r = trackDetached(child, app.name);
    r.exited.then(({ code, signal }) => {
      if (!stopping) void stop(1, `${app.name} exited (${signal ?? `code ${code}`})`);
    });
  }

  await Promise.all(apps.map((a) => waitReady(a)));
  if (stopping) return;
  const banner = [
    'dev stack ready',
    `  NATS          ${natsUrl}`,
    `  console       http://127.0.0.1:${consoleApp.healthPort}/  (users, dead letters, live tail; dev inbox at #/mail)`,
    `  mail inbox    http://127.0.0.1:${catcher.httpPort}  (SMTP 127.0.0.1:${catcher.smtpPort}, files in ${join(dataDir, 'mail')})`,
    `  health        ${apps.map((a) => `${a.name} http://127.0.0.1:${a.healthPort}/health/ready`).join(', ')}`,
    `  metrics       http://127.0.0.1:<health port>/metrics`,
    `  try it        npx idm publish user-added --server ${natsUrl}${nats ? ` --env-file ${join(dataDir, 'nats-auth', 'directory-source.env')}` : ''} --user-id ada --email ada@example.com`,
    ...(nats ? [`  operator      npx idm status --server ${natsUrl} --env-file ${join(dataDir, 'nats-auth', 'admin.env')}`] : []),
    ...(devSlapd
      ? [
          `  directory     ${devSlapd.url} base ${devSlapd.baseDn}: add a user (credentials in ${join(dataDir, 'dev-slapd.json')}) and the source announces it`,
        ]
      : []),
    '  Ctrl-C stops everything.',
  ];
  sayAll('dev-stack', banner);
}

/** Runs the built CLI (`dist/apps/cli/main.js`) synchronously; a failure stops the start with its message. */
function idm(args, extraEnv) {
  const r = spawnSync(process.execPath, [join(root, 'dist/apps/cli/main.js'), ...args], {
    cwd: root,
    env: { PATH: env.PATH, NO_COLOR: '1', ...extraEnv },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`idm ${args[0]} failed: ${(r.stderr || r.stdout).trim()}`);
}

/** `KEY=value` lines of a file written by `idm nats-config`. */
function readEnvFile(path) {
  const out = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

function trackDetached(child, name = 'nats') {
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const r = { name, child, exited };
  if (name !== 'nats') running.push(r);
  return r;
}

function pipeLines(name, child) {
  onChildLines(child, (l) => process.stdout.write(`${json ? `[${name}] ${l}` : prettyLine(name, l, colour)}\n`));
}

async function waitReady(app) {
  const deadline = Date.now() + 120_000;
  while (!stopping) {
    try {
      const res = await fetch(`http://127.0.0.1:${app.healthPort}/health/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) return void stop(1, `${app.name} not ready after 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stop(code, why) {
  if (stopping) {
    say('dev-stack', 'second signal: killing everything');
    for (const r of running) r.child.kill('SIGKILL');
    nats?.kill('SIGKILL');
    // slapd is SIGKILLed by the testing harness's exit hook.
    process.exit(1);
  }
  stopping = true;
  say('dev-stack', `stopping (${why})…`);
  // Apps first (they drain their consumers and connections), then the things they use.
  for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
  const forced = setTimeout(() => {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  }, 40_000);
  const results = await Promise.all(running.map((r) => r.exited.then((e) => ({ name: r.name, ...e }))));
  clearTimeout(forced);
  for (const r of results) say('dev-stack', `${r.name} stopped (${r.signal ?? `code ${r.code}`})`);
  directory?.close();
  await devSlapd?.dispose();
  if (nc && !nc.isClosed()) await nc.close();
  await catcher?.close();
  if (nats && nats.exitCode === null && nats.signalCode === null) {
    const done = new Promise((res) => nats.once('exit', res));
    nats.kill('SIGTERM');
    await done;
    say('dev-stack', 'nats-server stopped');
  }
  say('dev-stack', 'all stopped');
  process.exit(code);
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

main().catch((err) => {
  process.stderr.write(`dev stack failed: ${err.message}\n`);
  void stop(1, 'start failed');
});
