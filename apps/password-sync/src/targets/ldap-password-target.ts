import { BerWriter, Client, EqualityFilter, ResultCodeError } from 'ldapts';
import type { ConnectionOptions } from 'node:tls';
import { PasswordTarget, redactPassword, type ApplyResult } from './password-target.js';

/** RFC 3062 Password Modify extended operation. */
export const PASSWORD_MODIFY_OID = '1.3.6.1.4.1.4203.1.11.1';

/** How to reach and authenticate to the directory. */
export interface LdapPasswordTargetOptions {
  /** `ldap://host:port` or `ldaps://host:port`. */
  readonly url: string;
  /** A service account, not the rootdn: OpenLDAP's ppolicy skips every check for the rootdn. */
  readonly bindDn: string;
  readonly bindPassword: string;
  /** Where users are searched (subtree). */
  readonly baseDn: string;
  /** Attribute holding the user id (default `uid`). */
  readonly userAttribute?: string;
  /** Per-operation timeout (default 10 000 ms); exceeding it counts as `target-unavailable`. */
  readonly timeoutMs?: number;
  readonly tlsOptions?: ConnectionOptions;
  /** Bound connections kept open and reused (default 8); also the most operations in flight. */
  readonly poolSize?: number;
}

// Result codes that mean "try again later" rather than "this password/user is wrong".
const UNAVAILABLE_CODES = new Set([
  3, // timeLimitExceeded
  11, // adminLimitExceeded
  51, // busy
  52, // unavailable
]);
const NO_SUCH_OBJECT = 32;
const CONSTRAINT_VIOLATION = 19;

/** ldapts appends " Code: 0x13" to the server's diagnostic message; the reason alone is what a user should read. */
function serverMessage(err: ResultCodeError): string {
  return err.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim() || err.name;
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

/**
 * Writes passwords to an LDAP directory: binds as the service account, finds the entry whose
 * `userAttribute` equals the user id under `baseDn`, and sets its password with the RFC 3062
 * Password Modify extended operation.
 *
 * Why the extended operation rather than a `modify` of `userPassword`: on OpenLDAP both are
 * checked by ppolicy for a non-root account (measured with slapd 2.5, see `@idm/testing`'s
 * `SLAPD_POLICY_VIOLATION`), but only the extended operation also makes the server hash the
 * password by its own `password-hash` setting; a `modify` with cleartext is stored in cleartext
 * unless the overlay happens to have `ppolicy_hash_cleartext`.
 *
 * Connections are pooled (`poolSize`, default 8): each is bound once as the service account and
 * reused, so an attempt costs a search and an extended operation, not a connect and a bind too. A
 * connection is reused only after an answer that says nothing about the connection (applied,
 * user not found, policy violation) and only while still connected: ldapts reconnects silently,
 * and a silently reconnected connection would no longer be bound. Anything else closes it.
 */
export class LdapPasswordTarget extends PasswordTarget {
  private readonly userAttribute: string;
  private readonly poolSize: number;
  private readonly idle: Client[] = [];
  private readonly waiting: Array<() => void> = [];
  private busy = 0;
  private closed = false;

  constructor(private readonly options: LdapPasswordTargetOptions) {
    super();
    this.userAttribute = options.userAttribute ?? 'uid';
    this.poolSize = Math.max(1, Math.floor(options.poolSize ?? 8));
  }

  describe(): string {
    const url = new URL(this.options.url);
    return `${url.protocol}//${url.host}`;
  }

  async apply(userId: string, password: Buffer | string): Promise<ApplyResult> {
    const secret = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
    let request: Buffer | undefined;
    let client: Client | undefined;
    let result: ApplyResult;
    await this.takeSlot();
    try {
      client = await this.connection();
      const { searchEntries } = await client.search(this.options.baseDn, {
        scope: 'sub',
        // A filter object, not a string: the user id is never parsed as filter syntax.
        filter: new EqualityFilter({ attribute: this.userAttribute, value: userId }),
        attributes: ['1.1'],
        sizeLimit: 2,
      });
      if (searchEntries.length === 0) {
        result = { status: 'user-not-found', message: `no entry with ${this.userAttribute}=${userId} under ${this.options.baseDn}` };
      } else if (searchEntries.length > 1) {
        result = { status: 'target-error', message: `more than one entry with ${this.userAttribute}=${userId} under ${this.options.baseDn}` };
      } else {
        request = passwordModifyRequest(searchEntries[0]!.dn, secret);
        await client.exop(PASSWORD_MODIFY_OID, request);
        result = { status: 'applied' };
      }
    } catch (err) {
      result = mapLdapError(err, password);
    } finally {
      request?.fill(0);
      if (typeof password === 'string') secret.fill(0);
    }
    await this.giveBack(client, result.status === 'applied' || result.status === 'user-not-found' || result.status === 'policy-violation');
    return result;
  }

  /** Unbinds every idle connection; connections in use are closed when their attempt ends. */
  override async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((c) => c.unbind().catch(() => undefined)));
  }

  private async takeSlot(): Promise<void> {
    if (this.busy < this.poolSize) {
      this.busy++;
      return;
    }
    // The slot is handed over by giveBack without decrementing `busy`.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** An idle, still connected client, or a new one bound as the service account. */
  private async connection(): Promise<Client> {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (c.isConnected) return c;
      await c.unbind().catch(() => undefined);
    }
    const timeout = this.options.timeoutMs ?? 10_000;
    const client = new Client({ url: this.options.url, timeout, connectTimeout: timeout, ...(this.options.tlsOptions ? { tlsOptions: this.options.tlsOptions } : {}) });
    try {
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

/** Maps an ldapts failure to an {@link ApplyResult}; exported for the secrets spec. */
export function mapLdapError(err: unknown, password: Buffer | string): ApplyResult {
  if (err instanceof ResultCodeError) {
    const message = redactPassword(serverMessage(err), password);
    if (err.code === CONSTRAINT_VIOLATION) return { status: 'policy-violation', message };
    if (err.code === NO_SUCH_OBJECT) return { status: 'user-not-found', message };
    if (UNAVAILABLE_CODES.has(err.code)) return { status: 'target-unavailable', message: `${err.name}: ${message}` };
    return { status: 'target-error', message: `${err.name} (${err.code}): ${message}` };
  }
  // Everything that is not an LDAP result is the connection: refused, reset, TLS, timed out.
  const text = err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message.split('\n')[0]}` : String(err);
  return { status: 'target-unavailable', message: redactPassword(text, password) };
}
