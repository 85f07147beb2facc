import { errorMessage } from '@idm/config';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { Attribute, Change, Client, type Entry } from 'ldapts';
import { findBinary } from './find-binary.js';
import { HarnessError } from './harness-errors.js';
import { acquireMachineLock, type MachineLock } from './machine-lock.js';
import { ManagedProcess } from './managed-process.js';
import { onProcessExit } from './process-cleanup.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

const INSTALL_HINT = 'apt-get install samba samba-ad-dc samba-ad-provision ldap-utils';
/** Bump when the template's content changes, so machines rebuild their cached template. */
const TEMPLATE_REVISION = 1;
const REALM = 'IDM.TEST';
const DOMAIN = 'idm.test';
const NETBIOS_DOMAIN = 'IDM';
const HOST = 'dc1';
const BASE_DN = 'DC=idm,DC=test';
const PEOPLE = `OU=People,${BASE_DN}`;
const SERVICE_ACCOUNT = 'idm-sync';
/** Extended right "Reset Password" (User-Force-Change-Password). */
const RESET_PASSWORD_RIGHT = '00299570-246d-11d0-a768-00aa006e0529';
/** schemaIDGUID of the `pwdLastSet` attribute. */
const PWD_LAST_SET_ATTRIBUTE = 'bf967a0a-0de6-11d0-a285-00aa003049e2';
/** schemaIDGUID of the `user` class: the ACEs are inherited by user objects only. */
const USER_CLASS = 'bf967aba-0de6-11d0-a285-00aa003049e2';
/** userAccountControl bits. */
const UAC_ACCOUNTDISABLE = 0x2;
const UAC_NORMAL_ACCOUNT = 0x200;
const UAC_PASSWD_NOTREQD = 0x20;

/**
 * What the Samba AD DC (Debian 4.17) answers when an administrative reset (`replace unicodePwd`)
 * breaks the domain password policy — measured with this harness; password-sync maps it to
 * `policy-violation`. Result 19 `constraintViolation`, diagnostic message starting with
 * `0000052D` (Windows error `ERROR_PASSWORD_RESTRICTION`), the same for too short and for too
 * simple (complexity). The message never contains the password.
 */
export const SAMBA_AD_POLICY_VIOLATION = {
  resultCode: 19,
  resultName: 'constraintViolation',
  werror: '0000052D',
} as const;

/** Options of {@link startSambaAd}. */
export interface SambaAdOptions {
  /** How long to wait for the DC to answer an LDAPS bind (default 120 000 ms: a loaded machine is slow). */
  readonly startTimeoutMs?: number;
  /** How long to wait for the machine-wide lock (default 15 minutes). */
  readonly lockTimeoutMs?: number;
  /** Shown to other processes waiting for the lock (default: this process's argv). */
  readonly purpose?: string;
}

/** The domain password policy, as `samba-tool domain passwordsettings` shows it. */
export interface SambaAdPasswordPolicy {
  /** `minPwdLength`. */
  readonly minLength?: number;
  /** `pwdProperties` bit 1 (DOMAIN_PASSWORD_COMPLEX). */
  readonly complexity?: boolean;
  /** `pwdHistoryLength`. */
  readonly historyLength?: number;
  /** `minPwdAge`, in days (0 = none). */
  readonly minAgeDays?: number;
}

/** A user to create with {@link SambaAdHandle.createUser}. */
export interface SambaAdUserSpec {
  /** `sAMAccountName` (max 20 characters); also the `cn` and the UPN's local part. */
  readonly sAMAccountName: string;
  /**
   * Initial password; default a random compliant one nobody knows (the account is still enabled).
   * `null`: no password at all (`PASSWD_NOTREQD`), which skips the DC's key derivation — many
   * times faster, for bulk set-up; nobody can bind until a password is set.
   */
  readonly password?: string | null;
  readonly mail?: string;
  readonly givenName?: string;
  readonly sn?: string;
  readonly displayName?: string;
  /** Parent DN (default {@link SambaAdHandle.usersDn}, `OU=People,DC=idm,DC=test`). */
  readonly parentDn?: string;
  /** Create it disabled (`userAccountControl` 514). */
  readonly disabled?: boolean;
}

/** A running throwaway Samba AD domain controller; see {@link startSambaAd}. */
export interface SambaAdHandle {
  /** `ldap://127.0.0.1:389` (plain; StartTLS available). */
  readonly ldapUrl: string;
  /** `ldaps://127.0.0.1:636`. */
  readonly ldapsUrl: string;
  /** The self-signed CA that issued the DC's certificate: `<dir>/private/tls/ca.pem`. */
  readonly caFile: string;
  /**
   * The name on the DC's certificate, `DC1.idm.test` (CN only, no subjectAltName): clients that
   * connect to 127.0.0.1 must verify against this name (`servername`).
   */
  readonly tlsServerName: string;
  /** `DC=idm,DC=test`. */
  readonly baseDn: string;
  /** Where test users live and where the service account may reset passwords: `OU=People,DC=idm,DC=test`. */
  readonly usersDn: string;
  /** DNS domain `idm.test`. */
  readonly domain: string;
  /** Kerberos realm `IDM.TEST`. */
  readonly realm: string;
  /** NetBIOS domain `IDM`. */
  readonly netbiosDomain: string;
  /** `CN=Administrator,CN=Users,DC=idm,DC=test` — Domain Admin; for test set-up only. */
  readonly adminDn: string;
  readonly adminPassword: string;
  /**
   * `CN=idm-sync,CN=Users,DC=idm,DC=test`: a plain domain user (not an admin) holding only the
   * "Reset Password" extended right and write access to `pwdLastSet`, both inherited by user
   * objects under {@link usersDn}. The account the app should bind as.
   */
  readonly serviceBindDn: string;
  readonly serviceBindPassword: string;
  /**
   * password-sync's `PASSWORD_TARGET*` settings for this DC: LDAPS with the DC's CA and certificate
   * name, the active-directory dialect, the service account, `usersDn` as the base DN.
   */
  readonly passwordTargetEnv: Readonly<Record<string, string>>;
  /** The copy's `etc/smb.conf`, for `samba-tool … -s <smbConf>`. */
  readonly smbConf: string;
  /** The DC's stdout/stderr. */
  readonly logFile: string;
  /** `CN=<name>,<parentDn ?? usersDn>`, escaped. */
  userDn(sAMAccountName: string, parentDn?: string): string;
  /** Finds a user's DN anywhere in the domain by `sAMAccountName`; undefined when absent. */
  findUserDn(sAMAccountName: string): Promise<string | undefined>;
  /** Creates an enabled (unless `disabled`) user as the Administrator, over LDAPS. Returns its DN. */
  createUser(spec: SambaAdUserSpec): Promise<string>;
  /** Creates many users over one connection (bench set-up). */
  createUsers(specs: readonly SambaAdUserSpec[]): Promise<void>;
  /** Sets `ACCOUNTDISABLE` in `userAccountControl`. */
  disableUser(sAMAccountName: string): Promise<void>;
  /** Clears `ACCOUNTDISABLE`. */
  enableUser(sAMAccountName: string): Promise<void>;
  /** Deletes the user. */
  deleteUser(sAMAccountName: string): Promise<void>;
  /** Moves the user under `newParentDn` (same `cn`); returns the new DN. */
  moveUser(sAMAccountName: string, newParentDn: string): Promise<string>;
  /** Creates `OU=<name>,<parentDn ?? baseDn>`; returns its DN. */
  createOu(name: string, parentDn?: string): Promise<string>;
  /** Reads `attributes` of the user (undefined when absent). */
  readUser(sAMAccountName: string, attributes: readonly string[]): Promise<Entry | undefined>;
  /** Changes the domain password policy (only the fields given). */
  setPasswordPolicy(policy: SambaAdPasswordPolicy): Promise<void>;
  /**
   * True when a simple bind over LDAPS succeeds. `user` is a DN or a `sAMAccountName` (bound as
   * the UPN `<name>@idm.test`, which survives a move). How a spec proves a password was applied.
   */
  canBind(user: string, password: string): Promise<boolean>;
  /**
   * Stops the DC process but keeps its data and the lock: the directory is down (connections are
   * refused) until {@link resume}. For outage scenarios. No-op when halted.
   */
  halt(): Promise<void>;
  /** Starts the DC again on the same data; resolves when it answers an LDAPS bind. */
  resume(): Promise<void>;
  /**
   * CPU seconds (user + system) the running DC process has used so far, from `/proc` (Linux,
   * 100 ticks per second); NaN when unknown. For benchmarks: what the DC itself spent.
   */
  cpuSeconds(): number;
  /** Stops the DC, removes its copy and releases the machine-wide lock. Idempotent. */
  stop(): Promise<void>;
}

interface TemplateInfo {
  readonly sambaVersion: string;
  readonly adminPassword: string;
  readonly serviceBindPassword: string;
}

/**
 * Why Samba AD tests cannot run here, or undefined when they can. Spec files pass it as the
 * `skip` option of their `describe`, so a machine without Samba shows a visible skip with the
 * reason. When `IDM_REQUIRE_SAMBA_AD` is set (`.ci/run` sets it) this always returns undefined, so
 * a missing package fails the run instead of skipping.
 */
export function sambaAdUnavailable(): string | undefined {
  if (process.env.IDM_REQUIRE_SAMBA_AD !== undefined && process.env.IDM_REQUIRE_SAMBA_AD !== '') return undefined;
  try {
    findBinary('samba', INSTALL_HINT);
    findBinary('samba-tool', INSTALL_HINT);
  } catch (err) {
    return errorMessage(err);
  }
  if (dsdbModulesDir() === undefined) return `Samba's AD DC modules (samba_dsdb.so) are missing: install them with \`${INSTALL_HINT}\``;
  return undefined;
}

/** Debian installs the DC's ldb modules (package samba-dsdb-modules) under the multiarch lib dir. */
function dsdbModulesDir(): string | undefined {
  const candidates = ['/usr/lib/samba/ldb', '/usr/lib64/samba/ldb'];
  try {
    for (const arch of readdirSync('/usr/lib')) candidates.push(join('/usr/lib', arch, 'samba', 'ldb'));
  } catch {
    // no /usr/lib
  }
  return candidates.find((dir) => existsSync(join(dir, 'samba_dsdb.so')));
}

function escapeRdnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=#]/g, (c) => `\\${c}`)
    .replace(/^ /, '\\ ')
    .replace(/ $/, '\\ ');
}

function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The UTF-16LE, double-quoted form AD requires for `unicodePwd`. */
function unicodePwd(password: string): Buffer {
  return Buffer.from(`"${password}"`, 'utf16le');
}

function randomPassword(): string {
  // Upper, lower, digit and symbol: satisfies AD complexity at any sane minimum length.
  return `Init-${randomBytes(9).toString('base64url')}-9aZ`;
}

async function sambaTool(binary: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(binary, [...args], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new HarnessError('IDM_HARNESS_START_FAILED', `samba-tool ${args.slice(0, 3).join(' ')} failed: ${e.stderr ?? e.message}`, {
      cause: err,
    });
  }
}

async function sambaVersion(binary: string): Promise<string> {
  const { stdout } = await run(binary, ['--version']);
  return stdout.trim().replace(/^Version\s+/, '');
}

/**
 * Provisions a domain once per machine and Samba version into `<tmpdir>/idm-samba-ad-template-…`:
 * provisioning takes several seconds, copying the result a fraction of one. Everything is done
 * offline against `sam.ldb`; the caller holds the machine-wide lock, so no two processes build at
 * once. Built in a side directory and renamed into place when complete.
 */
async function ensureTemplate(toolBinary: string, version: string): Promise<{ dir: string; info: TemplateInfo }> {
  const dir = join(tmpdir(), `idm-samba-ad-template-${version.replace(/[^A-Za-z0-9.-]/g, '_')}-r${TEMPLATE_REVISION}`);
  const infoFile = join(dir, 'idm-template.json');
  if (existsSync(infoFile)) return { dir, info: JSON.parse(readFileSync(infoFile, 'utf8')) as TemplateInfo };

  const build = `${dir}.build-${process.pid}`;
  // Builds interrupted by a killed process: nobody else builds while we hold the lock.
  for (const name of readdirSync(tmpdir())) {
    if (name.startsWith(`${basename(dir)}.build-`)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  const info: TemplateInfo = {
    sambaVersion: version,
    adminPassword: `Adm-${randomBytes(12).toString('base64url')}-1a`,
    serviceBindPassword: `Svc-${randomBytes(12).toString('base64url')}-1a`,
  };
  try {
    await sambaTool(toolBinary, [
      'domain',
      'provision',
      '--server-role=dc',
      '--dns-backend=NONE',
      `--targetdir=${build}`,
      `--realm=${REALM}`,
      `--domain=${NETBIOS_DOMAIN}`,
      `--host-name=${HOST}`,
      `--adminpass=${info.adminPassword}`,
      '--option=interfaces=lo',
      '--option=bind interfaces only=yes',
      // Only the LDAP server: no SMB, Kerberos, NetBIOS or RPC ports to collide with anything.
      '--option=server services = ldap',
    ]);
    const db = ['-H', join(build, 'private', 'sam.ldb'), '-s', join(build, 'etc', 'smb.conf')];
    // A cached template outlives the default 42-day maximum age: never expire its accounts.
    await sambaTool(toolBinary, ['domain', 'passwordsettings', 'set', '--max-pwd-age=0', '--min-pwd-age=0', ...db]);
    await sambaTool(toolBinary, ['ou', 'create', PEOPLE, ...db]);
    await sambaTool(toolBinary, [
      'user',
      'create',
      SERVICE_ACCOUNT,
      info.serviceBindPassword,
      '--description=idm-events password-sync service account',
      ...db,
    ]);
    const shown = await sambaTool(toolBinary, ['user', 'show', SERVICE_ACCOUNT, '--attributes=objectSid', ...db]);
    const sid = /objectSid:\s*(S-[0-9-]+)/.exec(shown)?.[1];
    if (sid === undefined) throw new HarnessError('IDM_HARNESS_START_FAILED', `could not read the service account's SID from: ${shown}`);
    // Least privilege: Reset Password plus write pwdLastSet, inherited by user objects under OU=People only.
    await sambaTool(toolBinary, [
      'dsacl',
      'set',
      `--objectdn=${PEOPLE}`,
      `--sddl=(OA;CIIO;CR;${RESET_PASSWORD_RIGHT};${USER_CLASS};${sid})`,
      ...db,
    ]);
    await sambaTool(toolBinary, [
      'dsacl',
      'set',
      `--objectdn=${PEOPLE}`,
      `--sddl=(OA;CIIO;WP;${PWD_LAST_SET_ATTRIBUTE};${USER_CLASS};${sid})`,
      ...db,
    ]);
    writeFileSync(join(build, 'idm-template.json'), JSON.stringify({ ...info, templateDir: build }));
    renameSync(build, dir);
  } catch (err) {
    rmSync(build, { recursive: true, force: true });
    throw err;
  }
  // The paths inside smb.conf still name the build dir; copies rewrite them (see copyTemplate).
  return { dir, info };
}

/** Copies the template and points the copy's smb.conf at the copy. */
function copyTemplate(template: string, target: string): void {
  cpSync(template, target, { recursive: true, preserveTimestamps: true });
  const recorded = (JSON.parse(readFileSync(join(template, 'idm-template.json'), 'utf8')) as { templateDir: string }).templateDir;
  const conf = join(target, 'etc', 'smb.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8').split(recorded).join(target));
}

const LDAPS_URL = 'ldaps://127.0.0.1:636';
const ADMIN_DN = `CN=Administrator,CN=Users,${BASE_DN}`;
/** Samba names its self-signed certificate after the DC's FQDN, upper-case host part, CN only. */
const TLS_SERVER_NAME = `${HOST.toUpperCase()}.${DOMAIN}`;
const caFileOf = (dir: string): string => join(dir, 'private', 'tls', 'ca.pem');

function ldapsClient(caFile: string): Client {
  return new Client({
    url: LDAPS_URL,
    timeout: 30_000,
    connectTimeout: 10_000,
    tlsOptions: { ca: [readFileSync(caFile)], servername: TLS_SERVER_NAME },
  });
}

async function canBindOverLdaps(caFile: string, dn: string, password: string): Promise<boolean> {
  const c = ldapsClient(caFile);
  try {
    await c.bind(dn, password);
    return true;
  } catch {
    return false;
  } finally {
    await c.unbind().catch(() => undefined);
  }
}

/** Resolves when nothing accepts connections on 127.0.0.1:`port` (a previous DC has let go of it). */
function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/**
 * Starts a throwaway Samba Active Directory domain controller (Debian's `samba` 4.17 in
 * `-i -M single` mode, LDAP service only) for domain `idm.test` on the fixed ports
 * `ldap://127.0.0.1:389` and `ldaps://127.0.0.1:636`, with a self-signed CA at
 * `<dir>/private/tls/ca.pem`.
 *
 * - Provisioning (`samba-tool domain provision --server-role=dc --dns-backend=NONE …`) happens once
 *   per machine and Samba version into a cached template under the OS temp dir; each start copies
 *   it. The template holds `OU=People` and the least-privilege service account
 *   (see {@link SambaAdHandle.serviceBindDn}); the password policy is Samba's default (complexity
 *   on, minimum length 7, history 24) without minimum or maximum age.
 * - Because the ports are fixed, a machine-wide lock (`<tmpdir>/idm-samba-ad.lock`, see
 *   {@link acquireMachineLock}) is held from start to `stop()`: DC tests of all worktrees run one
 *   at a time, waiting with a log line.
 * - The DC is SIGKILLed, its copy removed and the lock released if the process exits without
 *   `stop()`; a lock left by a killed process is taken over and its orphaned DC killed.
 * @throws HarnessError `IDM_HARNESS_MISSING_BINARY` (install hint), `IDM_HARNESS_START_FAILED`
 *   quoting the DC's log, or `IDM_HARNESS_TIMEOUT`.
 */
export async function startSambaAd(options: SambaAdOptions = {}): Promise<SambaAdHandle> {
  const samba = findBinary('samba', INSTALL_HINT);
  const tool = findBinary('samba-tool', INSTALL_HINT);
  if (dsdbModulesDir() === undefined)
    throw new HarnessError(
      'IDM_HARNESS_MISSING_BINARY',
      `Samba's AD DC modules (samba_dsdb.so) are missing: install them with \`${INSTALL_HINT}\``,
    );
  const lock: MachineLock = await acquireMachineLock('samba-ad', {
    timeoutMs: options.lockTimeoutMs,
    purpose: options.purpose ?? `samba-ad harness: ${process.argv.slice(1).join(' ')}`,
  });
  let dir: string | undefined;
  let unregisterDir: (() => void) | undefined;
  let proc: ManagedProcess | undefined;
  try {
    const version = await sambaVersion(samba);
    const template = await ensureTemplate(tool, version);
    const copy = tempDir('idm-samba-ad');
    dir = copy;
    unregisterDir = onProcessExit(() => rmSync(copy, { recursive: true, force: true }));
    rmSync(copy, { recursive: true, force: true });
    copyTemplate(template.dir, copy);
    const smbConf = join(copy, 'etc', 'smb.conf');
    const logFile = join(copy, 'samba.log');
    // A DC stopped by a killed process may still be releasing its sockets.
    await waitFor(async () => (await portRefuses(389)) && (await portRefuses(636)), {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: 'ports 389 and 636 to be free (is another LDAP server running outside the lock?)',
    });
    const launch = async (): Promise<ManagedProcess> => {
      const started = await ManagedProcess.start(samba, ['-i', '-M', 'single', '-s', smbConf, '--debuglevel=1'], logFile);
      if (started.pid !== undefined) lock.recordChild(started.pid, smbConf);
      try {
        await started.untilReady(
          waitFor(() => canBindOverLdaps(caFileOf(copy), ADMIN_DN, template.info.adminPassword), {
            timeoutMs: options.startTimeoutMs ?? 120_000,
            intervalMs: 200,
            message: `Samba AD DC at ${LDAPS_URL} (log ${logFile})`,
          }),
          'samba',
        );
      } catch (err) {
        await started.signal('SIGKILL');
        throw err;
      }
      return started;
    };
    proc = await launch();
    const handle = makeHandle({ dir: copy, smbConf, logFile, info: template.info, lock, proc, unregisterDir, launch });
    // Samba generated its TLS key and CA on first start; keep them in the template so later
    // copies skip the key generation.
    const tls = join(template.dir, 'private', 'tls');
    if (!existsSync(join(tls, 'ca.pem'))) {
      mkdirSync(tls, { recursive: true });
      for (const f of ['ca.pem', 'cert.pem', 'key.pem'])
        cpSync(join(copy, 'private', 'tls', f), join(tls, f), { preserveTimestamps: true });
    }
    return handle;
  } catch (err) {
    await proc?.signal('SIGKILL');
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    unregisterDir?.();
    lock.release();
    throw err;
  }
}

function makeHandle(ctx: {
  dir: string;
  smbConf: string;
  logFile: string;
  info: TemplateInfo;
  lock: MachineLock;
  proc: ManagedProcess;
  unregisterDir: () => void;
  launch: () => Promise<ManagedProcess>;
}): SambaAdHandle {
  const ldapsUrl = LDAPS_URL;
  const caFile = caFileOf(ctx.dir);
  const adminDn = ADMIN_DN;
  let proc: ManagedProcess = ctx.proc;
  const serviceBindDn = `CN=${SERVICE_ACCOUNT},CN=Users,${BASE_DN}`;
  const client = (): Client => ldapsClient(caFile);

  const withAdmin = async <T>(work: (c: Client) => Promise<T>): Promise<T> => {
    const c = client();
    try {
      await c.bind(adminDn, ctx.info.adminPassword);
      return await work(c);
    } finally {
      await c.unbind().catch(() => undefined);
    }
  };
  const userDn = (name: string, parentDn?: string): string => `CN=${escapeRdnValue(name)},${parentDn ?? PEOPLE}`;
  const find = async (c: Client, name: string): Promise<string | undefined> => {
    const { searchEntries } = await c.search(BASE_DN, {
      scope: 'sub',
      filter: `(&(objectClass=user)(sAMAccountName=${escapeFilterValue(name)}))`,
      attributes: ['dn'],
    });
    return searchEntries[0]?.dn;
  };
  const mustFind = async (c: Client, name: string): Promise<string> => {
    const dn = await find(c, name);
    if (dn === undefined) throw new Error(`no user with sAMAccountName ${name}`);
    return dn;
  };
  const add = async (c: Client, spec: SambaAdUserSpec): Promise<string> => {
    const dn = userDn(spec.sAMAccountName, spec.parentDn);
    const optional: Record<string, string> = {};
    for (const key of ['mail', 'givenName', 'sn', 'displayName'] as const) {
      const value = spec[key];
      if (value !== undefined) optional[key] = value;
    }
    const attributes: Record<string, string | string[]> = {
      objectClass: ['top', 'person', 'organizationalPerson', 'user'],
      cn: spec.sAMAccountName,
      sAMAccountName: spec.sAMAccountName,
      userPrincipalName: `${spec.sAMAccountName}@${DOMAIN}`,
      ...optional,
      userAccountControl: String(
        UAC_NORMAL_ACCOUNT | (spec.disabled === true ? UAC_ACCOUNTDISABLE : 0) | (spec.password === null ? UAC_PASSWD_NOTREQD : 0),
      ),
    };
    await c.add(dn, [
      ...Object.entries(attributes).map(([type, value]) => new Attribute({ type, values: ([] as string[]).concat(value) })),
      // Over LDAPS the password can be set in the add itself, so the account is enabled at once.
      ...(spec.password === null ? [] : [new Attribute({ type: 'unicodePwd', values: [unicodePwd(spec.password ?? randomPassword())] })]),
    ]);
    return dn;
  };
  const setDisabled = (name: string, disabled: boolean): Promise<void> =>
    withAdmin(async (c) => {
      const dn = await mustFind(c, name);
      const { searchEntries } = await c.search(dn, { scope: 'base', attributes: ['userAccountControl'] });
      const uac = Number(searchEntries[0]?.userAccountControl ?? UAC_NORMAL_ACCOUNT);
      const next = disabled ? uac | UAC_ACCOUNTDISABLE : uac & ~UAC_ACCOUNTDISABLE;
      await c.modify(
        dn,
        new Change({ operation: 'replace', modification: new Attribute({ type: 'userAccountControl', values: [String(next)] }) }),
      );
    });

  let stopped = false;
  return {
    ldapUrl: 'ldap://127.0.0.1:389',
    ldapsUrl,
    caFile,
    tlsServerName: TLS_SERVER_NAME,
    baseDn: BASE_DN,
    usersDn: PEOPLE,
    domain: DOMAIN,
    realm: REALM,
    netbiosDomain: NETBIOS_DOMAIN,
    adminDn,
    adminPassword: ctx.info.adminPassword,
    serviceBindDn,
    serviceBindPassword: ctx.info.serviceBindPassword,
    passwordTargetEnv: {
      PASSWORD_TARGET: ldapsUrl,
      PASSWORD_TARGET_DIALECT: 'active-directory',
      PASSWORD_TARGET_TLS_CA_FILE: caFile,
      PASSWORD_TARGET_TLS_SERVER_NAME: TLS_SERVER_NAME,
      PASSWORD_TARGET_BIND_DN: serviceBindDn,
      PASSWORD_TARGET_BIND_PASSWORD: ctx.info.serviceBindPassword,
      PASSWORD_TARGET_BASE_DN: PEOPLE,
    },
    smbConf: ctx.smbConf,
    logFile: ctx.logFile,
    userDn,
    findUserDn: (name) => withAdmin((c) => find(c, name)),
    createUser: (spec) => withAdmin((c) => add(c, spec)),
    createUsers: (specs) =>
      withAdmin(async (c) => {
        for (const spec of specs) await add(c, spec);
      }),
    disableUser: (name) => setDisabled(name, true),
    enableUser: (name) => setDisabled(name, false),
    deleteUser: (name) => withAdmin(async (c) => c.del(await mustFind(c, name))),
    moveUser: (name, newParentDn) =>
      withAdmin(async (c) => {
        const dn = await mustFind(c, name);
        const rdn = dn.slice(0, dn.search(/(?<!\\),/));
        const target = `${rdn},${newParentDn}`;
        await c.modifyDN(dn, target);
        return target;
      }),
    createOu: (name, parentDn) =>
      withAdmin(async (c) => {
        const dn = `OU=${escapeRdnValue(name)},${parentDn ?? BASE_DN}`;
        await c.add(dn, { objectClass: ['top', 'organizationalUnit'], ou: name });
        return dn;
      }),
    readUser: (name, attributes) =>
      withAdmin(async (c) => {
        const dn = await find(c, name);
        if (dn === undefined) return undefined;
        const { searchEntries } = await c.search(dn, { scope: 'base', attributes: [...attributes] });
        return searchEntries[0];
      }),
    setPasswordPolicy: (policy) =>
      withAdmin(async (c) => {
        const changes: Change[] = [];
        const replace = (type: string, value: string): void => {
          changes.push(new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) }));
        };
        if (policy.minLength !== undefined) replace('minPwdLength', String(policy.minLength));
        if (policy.historyLength !== undefined) replace('pwdHistoryLength', String(policy.historyLength));
        // Intervals are negative counts of 100 ns.
        if (policy.minAgeDays !== undefined) replace('minPwdAge', String(-BigInt(policy.minAgeDays) * 864_000_000_000n));
        if (policy.complexity !== undefined) {
          const { searchEntries } = await c.search(BASE_DN, { scope: 'base', attributes: ['pwdProperties'] });
          const props = Number(searchEntries[0]?.pwdProperties ?? 0);
          replace('pwdProperties', String(policy.complexity ? props | 1 : props & ~1));
        }
        if (changes.length > 0) await c.modify(BASE_DN, changes);
      }),
    canBind: (user, password) => canBindOverLdaps(caFile, user.includes('=') ? user : `${user}@${DOMAIN}`, password),
    async halt() {
      await proc.signal('SIGTERM');
    },
    cpuSeconds() {
      try {
        const stat = readFileSync(`/proc/${String(proc.pid)}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return Number.NaN;
      }
    },
    async resume() {
      if (proc.running) return;
      proc = await ctx.launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc.signal('SIGTERM');
      rmSync(ctx.dir, { recursive: true, force: true });
      ctx.unregisterDir();
      ctx.lock.release();
    },
  };
}
