import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { nkeys } from '@nats-io/nats-core';
import { commonEnv, readEnv } from '@idm/config';
import { CliError, usage } from '../cli-error.js';
import type { Command } from 'commander';
import { collect, outputOf, withJson } from '../command.js';
import { NATS_ROLES, rolePermissions, type NatsRole, type RoleSettings } from '../nats-config/nats-roles.js';
import { renderAuthConfig, roleEnv, type RoleIdentity } from '../nats-config/nats-server-config.js';

/** The file names `idm nats-config` writes in its output folder. */
export const NATS_CONFIG_FILES = {
  auth: 'idm-auth.conf',
  seed: (role: NatsRole) => `${role}.nk`,
  env: (role: NatsRole) => `${role}.env`,
} as const;

/** What {@link writeNatsConfig} wrote for one role. */
export interface WrittenRole {
  readonly role: NatsRole;
  readonly key: string;
  readonly seed: 'new' | 'kept';
  readonly inbox: string;
  readonly publish: number;
  readonly subscribe: number;
}

/**
 * Writes `idm-auth.conf`, `<role>.nk` (0600, kept when present) and `<role>.env` into `dir`.
 * `seedDir` is where clients will find the seed files (written into the `.env` files).
 */
export function writeNatsConfig(dir: string, settings: RoleSettings, seedDir: string = resolve(dir)): WrittenRole[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const identities: RoleIdentity[] = [];
  const rows: WrittenRole[] = [];
  for (const role of NATS_ROLES) {
    const seedPath = join(dir, NATS_CONFIG_FILES.seed(role));
    const { seed, publicKey, created } = seedFor(seedPath);
    if (created) writeFileSync(seedPath, seed + '\n', { mode: 0o600 });
    chmodSync(seedPath, 0o600);
    writeFileSync(join(dir, NATS_CONFIG_FILES.env(role)), roleEnv(role, join(seedDir, NATS_CONFIG_FILES.seed(role)), settings), {
      mode: 0o644,
    });
    identities.push({ role, publicKey });
    const p = rolePermissions(role, settings);
    rows.push({
      role,
      key: publicKey,
      seed: created ? 'new' : 'kept',
      inbox: p.inboxPrefix,
      publish: p.publish.length,
      subscribe: p.subscribe.length,
    });
  }
  writeFileSync(join(dir, NATS_CONFIG_FILES.auth), renderAuthConfig(identities, settings), { mode: 0o644 });
  return rows;
}

/** Reads the role's seed if it was generated before (keys survive a regeneration), else creates one. */
function seedFor(path: string): { seed: string; publicKey: string; created: boolean } {
  if (existsSync(path)) {
    const seed = readFileSync(path, 'utf8').trim();
    try {
      return { seed, publicKey: nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey(), created: false };
    } catch (err) {
      throw new CliError(`${path} is not an nkey user seed (${(err as Error).message}); delete it to generate a new one`, 'IDM_CLI_FAILED');
    }
  }
  const pair = nkeys.createUser();
  return { seed: new TextDecoder().decode(pair.getSeed()), publicKey: pair.getPublicKey(), created: true };
}

/**
 * `idm nats-config --out DIR [--stream S] [--connector-subject S…] [--subscriber-consumer C…]
 * [--seed-dir PATH]`: writes the server's `idm-auth.conf` (one nkey user per role with its
 * permissions) and, per role, `<role>.nk` (the seed, mode 0600: the only secret) and `<role>.env`
 * (NATS_NKEY_SEED_FILE, NATS_INBOX_PREFIX). Existing seeds are kept, so regenerating after a
 * change keeps every client's key; delete a `.nk` file to rotate that role's key. Offline: no
 * NATS connection.
 */
export function natsConfigCommand(program: Command): void {
  withJson(
    program
      .command('nats-config')
      .description('write the nats-server permissions and one nkey identity per role into a folder (offline: no NATS connection)')
      .requiredOption('-o, --out <dir>', 'the folder to write idm-auth.conf, <role>.nk and <role>.env into')
      .option('--stream <name>', 'the event stream the permissions name (default IDM_STREAM, else IDM_EVENTS)')
      .option(
        '--connector-subject <subject>',
        'a subject password-sync may send passwords to (repeatable; default idm.directory.connector)',
        collect,
      )
      .option('--subscriber-consumer <name>', 'a durable consumer the subscriber role may read (repeatable; default subscriber)', collect)
      .option(
        '--seed-dir <path>',
        'absolute path where clients find the .nk files, written into the .env files (default: the --out folder)',
      ),
  ).action((options: NatsConfigOptions) => natsConfig(options));
}

interface NatsConfigOptions {
  readonly out: string;
  readonly stream?: string;
  readonly connectorSubject?: string[];
  readonly subscriberConsumer?: string[];
  readonly seedDir?: string;
  readonly json?: boolean;
}

function natsConfig(options: NatsConfigOptions): void {
  const out = outputOf(options);
  const dir = options.out;
  let stream: string;
  try {
    stream = readEnv({ IDM_STREAM: commonEnv.IDM_STREAM }, options.stream ? { IDM_STREAM: options.stream } : process.env).IDM_STREAM;
  } catch (err) {
    throw usage((err as Error).message);
  }
  const connectorSubjects = options.connectorSubject ?? [];
  const subscriberConsumers = options.subscriberConsumer ?? [];
  for (const s of connectorSubjects)
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(s))
      throw usage(`--connector-subject ${JSON.stringify(s)}: a literal subject without wildcards`);
  for (const c of subscriberConsumers)
    if (!/^[A-Za-z0-9_-]+$/.test(c)) throw usage(`--subscriber-consumer ${JSON.stringify(c)}: consumer names are letters, digits, - and _`);
  const settings: RoleSettings = {
    stream,
    connectorSubjects: connectorSubjects.length > 0 ? connectorSubjects : ['idm.directory.connector'],
    subscriberConsumers: subscriberConsumers.length > 0 ? subscriberConsumers : ['subscriber'],
  };
  const seedDir = options.seedDir ?? resolve(dir);
  if (!isAbsolute(seedDir)) throw usage('--seed-dir must be an absolute path (it is written into the .env files)');
  const rows = writeNatsConfig(dir, settings, seedDir);
  out.data({ dir: resolve(dir), stream, roles: rows });
  out.heading(`NATS identities for stream ${stream} in ${resolve(dir)}`);
  out.table(rows as unknown as Array<Record<string, unknown>>, ['role', 'key', 'seed', 'inbox', 'publish', 'subscribe']);
  out.line(
    `server: include "${NATS_CONFIG_FILES.auth}" in nats-server.conf; clients: the <role>.env settings and <role>.nk (secret, mode 0600)`,
  );
  out.line('then, with the admin identity: idm setup');
}
