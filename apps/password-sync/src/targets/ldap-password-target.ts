import { Attribute, BerWriter, Change, Client, EqualityFilter } from 'ldapts';
import type { ConnectionOptions } from 'node:tls';
import {
  adUnicodePwd,
  DEFAULT_USER_ATTRIBUTE,
  dialectFromRootDse,
  mapActiveDirectoryError,
  mapRfc3062Error,
  PASSWORD_MODIFY_OID,
  type LdapDialect,
  type LdapDialectSetting,
  type MappedFailure,
} from './ldap-dialect.js';
import { BatchedDnLookup } from './batched-dn-lookup.js';
import { PasswordTarget, PasswordTargetConfigError, type ApplyResult } from './password-target.js';
import { userDnTemplate } from './user-dn-template.js';

export { PASSWORD_MODIFY_OID } from './ldap-dialect.js';

/** What the target logs; Nest's `Logger` fits. Never given a password. */
export interface TargetLogger {
  log(message: string): void;
  error(message: string): void;
}

/** How to reach and authenticate to the directory. */
export interface LdapPasswordTargetOptions {
  /** `ldap://host:port` or `ldaps://host:port`. */
  readonly url: string;
  /** A service account, not the rootdn: OpenLDAP's ppolicy skips every check for the rootdn. */
  readonly bindDn: string;
  readonly bindPassword: string;
  /** Where users are searched (subtree). */
  readonly baseDn: string;
  /** Attribute holding the user id (default by dialect: `uid`, or `sAMAccountName` for Active Directory). */
  readonly userAttribute?: string;
  /**
   * `uid={userId},ou=people,…`: the user's DN is built (user id escaped) instead of searched, which
   * halves the LDAP operations per attempt; see {@link userDnTemplate}. `userAttribute` is then unused.
   */
  readonly userDnTemplate?: string;
  /** How passwords are written (default `rfc3062`); `auto` reads the rootDSE once. */
  readonly dialect?: LdapDialectSetting;
  /** Upgrade an `ldap://` connection with StartTLS before anything else is sent. */
  readonly startTls?: boolean;
  /** Active Directory: also set `pwdLastSet=0`, so the user must change the password at next logon. */
  readonly mustChange?: boolean;
  /** Per-operation timeout (default 10 000 ms); exceeding it counts as `target-unavailable`. */
  readonly timeoutMs?: number;
  /** For `ldaps://` and StartTLS: CA certificates, `servername`… Verification is never turned off here. */
  readonly tlsOptions?: ConnectionOptions;
  /** Bound connections kept open and reused (default 8); also the most operations in flight. */
  readonly poolSize?: number;
  /** Where the dialect choice and ambiguous user ids are logged. */
  readonly logger?: TargetLogger;
}

/** Encodes PasswdModifyRequestValue ::= SEQUENCE { userIdentity [0], newPasswd [2] }. */
function passwordModifyRequest(dn: string, password: Buffer): Buffer {
  const writer = new BerWriter();
  writer.startSequence(0x30);
  writer.writeString(dn, 0x80);
  writer.writeBuffer(password, 0x82);
  writer.endSequence();
  return writer.buffer;
}

/** Why Active Directory needs encryption, for the start-up refusal. */
const AD_NEEDS_ENCRYPTION =
  'Active Directory accepts a new password (unicodePwd) only over an encrypted connection, and the service account password would cross the network in clear: use ldaps://… or set PASSWORD_TARGET_STARTTLS=true';

/** A dialect together with the attribute users are found by. */
interface Resolved {
  readonly dialect: LdapDialect;
  readonly userAttribute: string;
}

/**
 * Writes passwords to an LDAP directory: binds as the service account, finds the entry whose
 * user attribute equals the user id under `baseDn` (or, with `userDnTemplate`, names it without a
 * search: "no such object" then means the account does not exist yet), and sets its password in
 * one of two dialects:
 *
 * - `rfc3062`: the Password Modify extended operation. Why not a `modify` of `userPassword`: on
 *   OpenLDAP both are checked by ppolicy for a non-root account (measured with slapd 2.5, see
 *   `@idm/testing`'s `SLAPD_POLICY_VIOLATION`), but only the extended operation also makes the
 *   server hash the password by its own `password-hash` setting.
 * - `active-directory`: an administrative reset — `replace unicodePwd` with the quoted UTF-16LE
 *   password (plus `pwdLastSet=0` with `mustChange`), which needs the service account's "Reset
 *   Password" right and an encrypted connection. AD never offers RFC 3062 (Samba answers protocol
 *   error 2 to it).
 * - `auto`: the rootDSE, read once on the first connection, decides (and is logged).
 *
 * Connections are pooled (`poolSize`, default 8) whatever the dialect: each is connected (StartTLS
 * first when asked), bound once as the service account and reused, so an attempt costs a search
 * (shared by the attempts that wait at the same moment: {@link BatchedDnLookup}) and a write, not
 * a connect and a bind too. A connection is reused only after an answer that says
 * nothing about the connection (applied, user not found, policy violation) and only while still
 * connected: ldapts reconnects silently, and a silently reconnected connection would no longer be
 * bound (nor encrypted, after StartTLS). Anything else closes it.
 */
export class LdapPasswordTarget extends PasswordTarget {
  private readonly poolSize: number;
  private readonly idle: Client[] = [];
  private readonly waiting: Array<() => void> = [];
  private readonly secureUrl: boolean;
  private resolved: Promise<Resolved> | undefined;
  private readonly dnOf: ((userId: string) => string) | undefined;
  /** Coalesces the searches of attempts that wait at the same moment; made once the attribute is settled. */
  private lookups: BatchedDnLookup | undefined;
  private busy = 0;
  private closed = false;
  /** `ldap[s]://host:port`, parsed once: every attempt's outcome names its target. */
  private readonly description: string;

  /** @throws PasswordTargetConfigError for Active Directory over plain LDAP, or StartTLS on `ldaps://`. */
  constructor(private readonly options: LdapPasswordTargetOptions) {
    super();
    const url = new URL(options.url);
    this.description = `${url.protocol}//${url.host}`;
    this.poolSize = Math.max(1, Math.floor(options.poolSize ?? 8));
    this.secureUrl = options.url.toLowerCase().startsWith('ldaps://');
    if (options.startTls === true && this.secureUrl)
      throw new PasswordTargetConfigError('PASSWORD_TARGET_STARTTLS=true needs an ldap:// URL: ldaps:// is encrypted from the start');
    const dialect = options.dialect ?? 'rfc3062';
    if (dialect === 'active-directory' && !this.encrypted)
      throw new PasswordTargetConfigError(`refusing ${this.describe()} for the active-directory dialect: ${AD_NEEDS_ENCRYPTION}`);
    if (dialect === 'rfc3062' && options.mustChange === true)
      throw new PasswordTargetConfigError('PASSWORD_TARGET_MUST_CHANGE=true needs the active-directory dialect (it sets pwdLastSet=0)');
    if (options.userDnTemplate !== undefined) this.dnOf = userDnTemplate(options.userDnTemplate, options.baseDn);
    if (dialect !== 'auto')
      this.resolved = Promise.resolve({ dialect, userAttribute: options.userAttribute ?? DEFAULT_USER_ATTRIBUTE[dialect] });
  }

  describe(): string {
    return this.description;
  }

  private get encrypted(): boolean {
    return this.secureUrl || this.options.startTls === true;
  }

  /**
   * Connects once to settle the dialect (reading the rootDSE for `auto`) and check the service
   * account, so that a wrong setting shows at start. Resolves with the dialect.
   * @throws PasswordTargetConfigError when `auto` finds Active Directory over plain LDAP, or a
   *   server that announces neither dialect; an ldapts / network error when the directory cannot
   *   be reached (the caller may start anyway: attempts retry).
   */
  async prepare(): Promise<LdapDialect> {
    await this.takeSlot();
    let client: Client | undefined;
    let reusable = false;
    try {
      client = await this.connection();
      reusable = true;
      return (await this.dialect(client)).dialect;
    } catch (err) {
      // A wrong service password or CA shows at start as the configuration problem it is.
      const problem =
        err instanceof PasswordTargetConfigError
          ? undefined
          : this.mapError(err, '', this.options.dialect === 'active-directory' ? 'active-directory' : 'rfc3062').configurationProblem;
      if (problem !== undefined) this.reportConfigurationProblem(problem);
      throw err;
    } finally {
      await this.giveBack(client, reusable);
    }
  }

  async apply(userId: string, password: Buffer | string): Promise<ApplyResult> {
    const secret = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
    let request: Buffer | undefined;
    let client: Client | undefined;
    let result: ApplyResult;
    let dialect: LdapDialect = this.options.dialect === 'active-directory' ? 'active-directory' : 'rfc3062';
    await this.takeSlot();
    try {
      client = await this.connection();
      const resolved = await this.dialect(client);
      dialect = resolved.dialect;
      const found = this.dnOf ? { dn: this.dnOf(userId) } : await this.find(client, userId, resolved);
      if ('failure' in found) {
        result = found.failure;
      } else if (dialect === 'active-directory') {
        request = adUnicodePwd(secret);
        const changes = [new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [request] }) })];
        if (this.options.mustChange === true)
          changes.push(new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdLastSet', values: ['0'] }) }));
        await client.modify(found.dn, changes);
        result = { status: 'applied' };
      } else {
        request = passwordModifyRequest(found.dn, secret);
        await client.exop(PASSWORD_MODIFY_OID, request);
        result = { status: 'applied' };
      }
    } catch (err) {
      const mapped = this.mapError(err, password, dialect);
      if (mapped.configurationProblem !== undefined) this.reportConfigurationProblem(mapped.configurationProblem);
      result = mapped.result;
      // With a DN template, "no such object" is how a missing account shows: name the DN asked for.
      if (this.dnOf && result.status === 'user-not-found')
        result = { status: 'user-not-found', message: `no entry ${this.dnOf(userId)}: ${result.message}` };
    } finally {
      request?.fill(0);
      if (typeof password === 'string') secret.fill(0);
    }
    await this.giveBack(client, result.status === 'applied' || result.status === 'user-not-found' || result.status === 'policy-violation');
    return result;
  }

  /**
   * The DN of the one entry whose user attribute is `userId` under the base DN, or why there is none
   * to write. A batched search of the ids waiting at the same moment answers when it can prove the
   * one entry; otherwise (and alone) this id's own search decides, as it always did.
   */
  private async find(
    client: Client,
    userId: string,
    resolved: Resolved,
  ): Promise<{ readonly dn: string } | { readonly failure: ApplyResult }> {
    this.lookups ??= new BatchedDnLookup(this.options.baseDn, resolved.userAttribute);
    const batched = await this.lookups.lookup(client, userId);
    if (batched !== undefined) return { dn: batched };
    const { searchEntries } = await client.search(this.options.baseDn, {
      scope: 'sub',
      // A filter object, not a string: the user id is never parsed as filter syntax.
      filter: new EqualityFilter({ attribute: resolved.userAttribute, value: userId }),
      attributes: ['1.1'],
      sizeLimit: 2,
    });
    const where = `${resolved.userAttribute}=${userId} under ${this.options.baseDn}`;
    if (searchEntries.length === 1) return { dn: searchEntries[0]!.dn };
    if (searchEntries.length === 0) return { failure: { status: 'user-not-found', message: `no entry with ${where}` } };
    // AD: two accounts answering to one id is a directory data problem; nobody's password is set.
    if (resolved.dialect !== 'active-directory')
      return { failure: { status: 'target-error', message: `more than one entry with ${where}` } };
    const message = `ambiguous: more than one entry with ${where}`;
    this.options.logger?.error(`password not applied: ${message}`);
    return { failure: { status: 'user-not-found', message } };
  }

  private mapError(err: unknown, password: Buffer | string, dialect: LdapDialect): MappedFailure {
    if (err instanceof PasswordTargetConfigError)
      return { result: { status: 'target-unavailable', message: err.message }, configurationProblem: err.message };
    return dialect === 'active-directory' ? mapActiveDirectoryError(err, password) : mapRfc3062Error(err, password);
  }

  /** Unbinds every idle connection; connections in use are closed when their attempt ends. */
  override async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((c) => c.unbind().catch(() => undefined)));
  }

  /** The settled dialect; for `auto`, read from the rootDSE on `client` the first time. */
  private dialect(client: Client): Promise<Resolved> {
    this.resolved ??= this.readRootDse(client);
    return this.resolved;
  }

  private async readRootDse(client: Client): Promise<Resolved> {
    try {
      const { searchEntries } = await client.search('', {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: ['supportedCapabilities', 'supportedExtension'],
      });
      const rootDse = searchEntries[0];
      const dialect = rootDse
        ? dialectFromRootDse({ supportedCapabilities: rootDse.supportedCapabilities, supportedExtension: rootDse.supportedExtension })
        : undefined;
      if (dialect === undefined) {
        throw new PasswordTargetConfigError(
          `${this.describe()} announces neither Active Directory nor the RFC 3062 Password Modify extension in its rootDSE: set PASSWORD_TARGET_DIALECT explicitly`,
        );
      }
      if (dialect === 'active-directory' && !this.encrypted)
        throw new PasswordTargetConfigError(`${this.describe()} is Active Directory: ${AD_NEEDS_ENCRYPTION}`);
      if (dialect === 'rfc3062' && this.options.mustChange === true)
        this.options.logger?.error('PASSWORD_TARGET_MUST_CHANGE=true has no effect: the directory is not Active Directory');
      const userAttribute = this.options.userAttribute ?? DEFAULT_USER_ATTRIBUTE[dialect];
      this.options.logger?.log(
        `PASSWORD_TARGET_DIALECT=auto: ${this.describe()} speaks ${dialect} (from its rootDSE); users found by ${userAttribute}`,
      );
      return { dialect, userAttribute };
    } catch (err) {
      // Not settled: the next connection reads the rootDSE again.
      this.resolved = undefined;
      throw err;
    }
  }

  private async takeSlot(): Promise<void> {
    if (this.busy < this.poolSize) {
      this.busy++;
      return;
    }
    // The slot is handed over by giveBack without decrementing `busy`.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /**
   * An idle, still connected client, or a new one: connected, upgraded with StartTLS when asked,
   * dialect settled (an `auto` refusal happens before any credentials are sent), then bound.
   */
  private async connection(): Promise<Client> {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (c.isConnected) return c;
      await c.unbind().catch(() => undefined);
    }
    const timeout = this.options.timeoutMs ?? 10_000;
    const tlsOptions = this.options.tlsOptions ?? {};
    // TLS options go to the constructor only for ldaps://; for ldap:// they are StartTLS's.
    const client = new Client({ url: this.options.url, timeout, connectTimeout: timeout, ...(this.secureUrl ? { tlsOptions } : {}) });
    try {
      if (this.options.startTls === true) await client.startTLS(tlsOptions);
      await this.dialect(client);
      await client.bind(this.options.bindDn, this.options.bindPassword);
    } catch (err) {
      await client.unbind().catch(() => undefined);
      throw err;
    }
    return client;
  }

  private async giveBack(client: Client | undefined, reusable: boolean): Promise<void> {
    if (client) {
      if (reusable && !this.closed && client.isConnected) this.idle.push(client);
      else await client.unbind().catch(() => undefined);
    }
    const next = this.waiting.shift();
    if (next) next();
    else this.busy--;
  }
}

/** Maps an ldapts failure of the RFC 3062 writer to an {@link ApplyResult}; exported for the secrets spec. */
export function mapLdapError(err: unknown, password: Buffer | string): ApplyResult {
  return mapRfc3062Error(err, password).result;
}
