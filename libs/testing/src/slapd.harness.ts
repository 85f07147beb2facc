import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { findBinary } from './find-binary.js';
import { freePort } from './free-port.js';
import { ManagedProcess } from './managed-process.js';
import { onProcessExit } from './process-cleanup.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait-for.js';

/** Options of {@link startSlapd}. */
export interface SlapdOptions {
  /** `pwdMinLength` of the default password policy (default 8). */
  readonly ppolicyMinLength?: number;
  /** How long to wait for slapd to answer a bind (default 15 000 ms). */
  readonly startTimeoutMs?: number;
  /** `dbnosync`: writes are not fsynced. Only for benchmarks that load many entries first. */
  readonly noSync?: boolean;
  /** mdb `maxsize` in bytes (default 64 MiB; 100 000 users need about 1 GiB). */
  readonly maxSizeBytes?: number;
}

/**
 * What the test directory answers when a password change breaks the policy — measured on Debian's
 * slapd 2.5.13 with this harness's configuration; password-sync maps it to `policy-violation`.
 *
 * - Only a **non-root** identity is checked: the rootdn (`bindDn`) bypasses ppolicy entirely, so
 *   the app must bind as `serviceBindDn`.
 * - For the service account, **both** a `modify` replacing `userPassword` with the cleartext
 *   password **and** the Password Modify extended operation (RFC 3062, OID `1.3.6.1.4.1.4203.1.11.1`)
 *   fail with result code 19 `constraintViolation`, diagnostic message
 *   `Password fails quality checking policy` (ldapts throws `ConstraintViolationError`, `code` 19).
 * - The ppolicy request control (OID `1.3.6.1.4.1.42.2.27.8.5.1`) is optional; when sent, the
 *   response also carries that control with error 6 (`passwordTooShort`) for a short password.
 * - Cleartext is hashed by the server (`ppolicy_hash_cleartext`, `{SSHA}`); a pre-hashed value is
 *   rejected the same way because `pwdCheckQuality` is 2.
 */
export const SLAPD_POLICY_VIOLATION = {
  resultCode: 19,
  resultName: 'constraintViolation',
  message: 'Password fails quality checking policy',
  ppolicyControlOid: '1.3.6.1.4.1.42.2.27.8.5.1',
  passwordModifyOid: '1.3.6.1.4.1.4203.1.11.1',
  ppolicyErrorPasswordTooShort: 6,
} as const;

/** A real OpenLDAP `slapd` with the ppolicy overlay; see {@link startSlapd}. */
export interface SlapdHandle {
  /** `ldap://127.0.0.1:<port>`; kept across stop/start. */
  readonly url: string;
  readonly port: number;
  /** `dc=idm,dc=test`. */
  readonly suffix: string;
  /** Where users live: `ou=people,dc=idm,dc=test`. */
  readonly baseDn: string;
  /** The rootdn `cn=admin,dc=idm,dc=test` — bypasses ppolicy and ACLs; for test set-up only. */
  readonly bindDn: string;
  /** The rootdn's password (random per server). */
  readonly bindPassword: string;
  /**
   * The account the app should bind as: `cn=idm-sync,dc=idm,dc=test`, not root, with write access
   * to `userPassword` (and read access to everything) under `ou=people` — subject to ppolicy.
   */
  readonly serviceBindDn: string;
  /** The service account's password (random per server). */
  readonly serviceBindPassword: string;
  /** DN of the default policy entry (`cn=default,ou=policies,dc=idm,dc=test`). */
  readonly policyDn: string;
  /** slapd's output (`-d 0`: start-up errors only). */
  readonly logFile: string;
  /** `uid=<uid>,ou=people,dc=idm,dc=test`, with the value escaped. */
  userDn(uid: string): string;
  /**
   * Adds an `inetOrgPerson` (`cn` = `sn` = uid, optional `mail`) as the rootdn, so the initial
   * password is not policy-checked. Returns its DN.
   */
  addUser(
    uid: string,
    opts?: { readonly password?: string; readonly mail?: string; readonly displayName?: string; readonly title?: string },
  ): Promise<string>;
  /** Deletes the user's entry. */
  deleteUser(uid: string): Promise<void>;
  /** Outside `baseDn` but in the same suffix: `ou=former,dc=idm,dc=test` (where a "moved out of scope" user goes). */
  readonly outOfScopeDn: string;
  /**
   * Replaces attributes of the user as the rootdn: a string or list sets the values, null removes
   * the attribute. Every write gives the entry a new `entryCSN` and `modifyTimestamp`.
   */
  modifyUser(uid: string, changes: Readonly<Record<string, string | readonly string[] | null>>): Promise<void>;
  /** Moves the user's entry under `newParentDn` (same RDN, modify DN); returns the new DN. */
  moveUser(uid: string, newParentDn: string): Promise<string>;
  /** ppolicy's administrative lock (`pwdAccountLockedTime: 000001010000Z`): the account is disabled. */
  lockUser(uid: string): Promise<void>;
  /** Removes the administrative lock. */
  unlockUser(uid: string): Promise<void>;
  /** Adds many `inetOrgPerson` users over one connection (benchmark set-up). */
  addUsers(users: readonly { readonly uid: string; readonly mail?: string; readonly displayName?: string }[]): Promise<void>;
  /** True when a simple bind as `dn` with `password` succeeds: how a spec proves a password was applied. */
  canBind(dn: string, password: string): Promise<boolean>;
  /** SIGTERM and wait for exit — the directory is down (connections are refused). No-op when stopped. */
  stop(): Promise<void>;
  /**
   * SIGSTOP, resolving once every thread of slapd has stopped: the directory hangs — it keeps its
   * connections (and the kernel accepts new ones) but answers nothing until {@link resume}. No-op
   * when stopped.
   */
  pause(): Promise<void>;
  /** SIGCONT after {@link pause}: slapd answers what waited. */
  resume(): void;
  /** Starts slapd again on the same port and data; resolves when it answers a bind. */
  start(): Promise<void>;
  /** Stops and removes the temp dir (database, config, log). */
  dispose(): Promise<void>;
}

const SUFFIX = 'dc=idm,dc=test';
const PEOPLE = `ou=people,${SUFFIX}`;
const ADMIN = `cn=admin,${SUFFIX}`;
const SERVICE = `cn=idm-sync,${SUFFIX}`;
const POLICY = `cn=default,ou=policies,${SUFFIX}`;
const FORMER = `ou=former,${SUFFIX}`;
/** ppolicy's "locked until an administrator unlocks it" value. */
const PERMANENT_LOCK = '000001010000Z';

/** `{SSHA}` hash, so no password is stored in cleartext in the config or the database. */
function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** Escapes an RDN attribute value (RFC 4514). */
function escapeRdnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}

function slapdConf(dir: string, rootPasswordHash: string, options: SlapdOptions): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    // In 2.5 the ppolicy schema is built into the overlay module.
    'moduleload ppolicy',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'database mdb',
    `maxsize ${options.maxSizeBytes ?? 67108864}`,
    ...(options.noSync ? ['dbnosync'] : []),
    `suffix "${SUFFIX}"`,
    `rootdn "${ADMIN}"`,
    `rootpw ${rootPasswordHash}`,
    `directory ${join(dir, 'data')}`,
    // slapd caps what a non-root identity may read at 500 entries, paged results included
    // (size.prtotal); a directory source reading every user needs that lifted for its account.
    `limits dn.exact="${SERVICE}" size.soft=unlimited size.hard=unlimited size.prtotal=unlimited`,
    'index objectClass eq',
    'index uid eq',
    // What a directory source's change queries and lookups use (entryCSN as for syncrepl).
    'index entryUUID,entryCSN eq',
    'index modifyTimestamp eq',
    'overlay ppolicy',
    `ppolicy_default "${POLICY}"`,
    'ppolicy_hash_cleartext',
    'ppolicy_use_lockout',
    'access to attrs=userPassword',
    `  by dn.exact="${SERVICE}" write`,
    '  by anonymous auth',
    '  by self write',
    '  by * none',
    `access to dn.subtree="${PEOPLE}"`,
    `  by dn.exact="${SERVICE}" write`,
    '  by * read',
    'access to *',
    '  by * read',
    '',
  ].join('\n');
}

/**
 * Starts a real OpenLDAP `slapd` (Debian 2.5; `/usr/sbin/slapd`, modules from `/usr/lib/ldap`) on
 * `ldap://127.0.0.1:<free port>` with a temporary `slapd.conf` and mdb database, and seeds it:
 * `dc=idm,dc=test`, `ou=people`, `ou=policies` with the default policy (`pwdAttribute userPassword`,
 * `pwdMinLength` = `ppolicyMinLength`, `pwdCheckQuality 2`), and the service account
 * `cn=idm-sync,dc=idm,dc=test`. Overlay options: `ppolicy_hash_cleartext`, `ppolicy_use_lockout`.
 * See {@link SLAPD_POLICY_VIOLATION} for how a policy violation is reported.
 *
 * The process is SIGKILLed and its temp dir removed if the test process exits without `dispose()`.
 * @throws HarnessError `IDM_HARNESS_MISSING_BINARY` (install with `apt-get install slapd ldap-utils`),
 *   or `IDM_HARNESS_START_FAILED` / `IDM_HARNESS_TIMEOUT` quoting slapd's log.
 */
export async function startSlapd(options: SlapdOptions = {}): Promise<SlapdHandle> {
  const binary = findBinary('slapd', 'apt-get install slapd ldap-utils');
  const minLength = options.ppolicyMinLength ?? 8;
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  const dir = tempDir('idm-slapd');
  const unregisterDir = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'slapd.log');
  const confFile = join(dir, 'slapd.conf');
  const bindPassword = `adm-${randomBytes(12).toString('hex')}`;
  const serviceBindPassword = `svc-${randomBytes(12).toString('hex')}`;
  mkdirSync(join(dir, 'data'));
  writeFileSync(confFile, slapdConf(dir, ssha(bindPassword), options));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;

  const withAdmin = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url, timeout: 10_000, connectTimeout: 5_000 });
    try {
      await client.bind(ADMIN, bindPassword);
      return await work(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };

  let current: ManagedProcess | undefined;
  const launch = async (): Promise<void> => {
    // -d 0 keeps slapd in the foreground (no fork), so we own its pid and see start-up errors.
    const proc = await ManagedProcess.start(binary, ['-f', confFile, '-h', `${url}/`, '-d', '0'], logFile);
    current = proc;
    try {
      await proc.untilReady(
        waitFor(() => withAdmin(() => Promise.resolve(true)), { timeoutMs, intervalMs: 100, message: `slapd at ${url}` }),
        'slapd',
      );
    } catch (err) {
      await proc.signal('SIGKILL');
      throw err;
    }
  };

  try {
    await launch();
    await withAdmin(async (client) => {
      await client.add(SUFFIX, { objectClass: ['dcObject', 'organization'], dc: 'idm', o: 'idm' });
      await client.add(PEOPLE, { objectClass: 'organizationalUnit', ou: 'people' });
      await client.add(`ou=policies,${SUFFIX}`, { objectClass: 'organizationalUnit', ou: 'policies' });
      await client.add(FORMER, { objectClass: 'organizationalUnit', ou: 'former' });
      await client.add(POLICY, {
        objectClass: ['organizationalRole', 'pwdPolicy'],
        cn: 'default',
        pwdAttribute: 'userPassword',
        pwdMinLength: String(minLength),
        pwdCheckQuality: '2',
        pwdAllowUserChange: 'TRUE',
      });
      await client.add(SERVICE, {
        objectClass: ['organizationalRole', 'simpleSecurityObject'],
        cn: 'idm-sync',
        userPassword: ssha(serviceBindPassword),
      });
    });
  } catch (err) {
    await current?.signal('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    unregisterDir();
    throw err;
  }

  const userDn = (uid: string): string => `uid=${escapeRdnValue(uid)},${PEOPLE}`;
  const stop = async (): Promise<void> => {
    if (current) await current.signal('SIGTERM');
  };
  return {
    url,
    port,
    suffix: SUFFIX,
    baseDn: PEOPLE,
    bindDn: ADMIN,
    bindPassword,
    serviceBindDn: SERVICE,
    serviceBindPassword,
    policyDn: POLICY,
    logFile,
    userDn,
    async addUser(uid, opts = {}) {
      const dn = userDn(uid);
      await withAdmin((client) =>
        client.add(dn, {
          objectClass: 'inetOrgPerson',
          uid,
          cn: uid,
          sn: uid,
          ...(opts.mail !== undefined ? { mail: opts.mail } : {}),
          ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}),
          ...(opts.title !== undefined ? { title: opts.title } : {}),
          ...(opts.password !== undefined ? { userPassword: opts.password } : {}),
        }),
      );
      return dn;
    },
    outOfScopeDn: FORMER,
    async modifyUser(uid, changes) {
      const list = Object.entries(changes).map(
        ([type, value]) =>
          new Change({
            operation: value === null ? 'delete' : 'replace',
            modification: new Attribute({ type, values: value === null ? [] : typeof value === 'string' ? [value] : [...value] }),
          }),
      );
      await withAdmin((client) => client.modify(userDn(uid), list));
    },
    async moveUser(uid, newParentDn) {
      const target = `uid=${escapeRdnValue(uid)},${newParentDn}`;
      await withAdmin((client) => client.modifyDN(userDn(uid), target));
      return target;
    },
    async lockUser(uid) {
      await withAdmin((client) =>
        client.modify(userDn(uid), [
          new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdAccountLockedTime', values: [PERMANENT_LOCK] }) }),
        ]),
      );
    },
    async unlockUser(uid) {
      await withAdmin((client) =>
        client.modify(userDn(uid), [
          new Change({ operation: 'delete', modification: new Attribute({ type: 'pwdAccountLockedTime', values: [] }) }),
        ]),
      );
    },
    async addUsers(users) {
      await withAdmin(async (client) => {
        for (const u of users) {
          await client.add(userDn(u.uid), {
            objectClass: 'inetOrgPerson',
            uid: u.uid,
            cn: u.uid,
            sn: u.uid,
            ...(u.mail !== undefined ? { mail: u.mail } : {}),
            ...(u.displayName !== undefined ? { displayName: u.displayName } : {}),
          });
        }
      });
    },
    async deleteUser(uid) {
      await withAdmin((client) => client.del(userDn(uid)));
    },
    async canBind(dn, password) {
      const client = new Client({ url, timeout: 5_000, connectTimeout: 5_000 });
      try {
        await client.bind(dn, password);
        return true;
      } catch {
        return false;
      } finally {
        await client.unbind().catch(() => undefined);
      }
    },
    stop,
    pause: async () => current?.pause(),
    resume: () => current?.notify('SIGCONT'),
    async start() {
      if (current?.running) return;
      await launch();
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      unregisterDir();
    },
  };
}
