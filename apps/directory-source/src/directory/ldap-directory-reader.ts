import { errorMessage } from '@idm/config';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import {
  Client,
  Control,
  EqualityFilter,
  InvalidCredentialsError,
  NoSuchObjectError,
  ResultCodeError,
  SizeLimitExceededError,
  type Entry,
} from 'ldapts';
import { changeQueryFloor, type ServerState } from '../changes/poll-plan.js';
import type { RawEntry } from '../changes/source-entry.js';
import { AD_SHOW_DELETED_OID, DIALECT_ATTRIBUTES, type SourceDialect } from './dialect.js';
import {
  DirectoryBindError,
  DirectoryReader,
  DirectoryUnavailableError,
  type ChangeQuery,
  type DirectorySession,
  type PageHandler,
  type Whereabouts,
} from './directory-reader.js';

/** How to reach and read the directory. */
export interface LdapSourceSettings {
  /** `ldap://` or `ldaps://`. */
  readonly url: string;
  /** Upgrade an `ldap://` connection with StartTLS before binding. */
  readonly startTls: boolean;
  readonly bindDn: string;
  readonly bindPassword: string;
  readonly baseDn: string;
  /** `auto` reads the root DSE at each poll. */
  readonly dialect: SourceDialect | 'auto';
  /** The user filter; undefined = the dialect's default. */
  readonly userFilter: (dialect: SourceDialect) => string;
  /** Every attribute the mapping needs (id, mail, display name, reported); dialect attributes are added. */
  readonly attributes: readonly string[];
  readonly pageSize: number;
  readonly overlapSeconds: number;
  readonly timeoutMs: number;
  readonly tlsCaFile?: string | undefined;
  readonly tlsServerName?: string | undefined;
}

const BINARY_ATTRIBUTES = ['objectGUID', 'invocationId'];

/** An AD GUID as text: the first three fields are little-endian on the wire. */
export function formatGuid(buf: Buffer): string {
  if (buf.length !== 16) return buf.toString('hex');
  const hex = (b: Buffer) => b.toString('hex');
  const le = (start: number, len: number) => hex(Buffer.from(buf.subarray(start, start + len)).reverse());
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${hex(buf.subarray(8, 10))}-${hex(buf.subarray(10, 16))}`;
}

/** The `<GUID=…>` form AD accepts as a search base: the wire byte order in hex. */
function guidBase(guid: string): string {
  const h = guid.replace(/-/g, '');
  const rev = (s: string) => s.match(/../g)!.reverse().join('');
  return `<GUID=${rev(h.slice(0, 8))}${rev(h.slice(8, 12))}${rev(h.slice(12, 16))}${h.slice(16)}>`;
}

function toRaw(entry: Entry): RawEntry {
  const attributes = new Map<string, string[]>();
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const list = Array.isArray(value) ? value : [value];
    const binary = BINARY_ATTRIBUTES.some((b) => b.toLowerCase() === name.toLowerCase());
    attributes.set(
      name.toLowerCase(),
      list.map((v) => (Buffer.isBuffer(v) ? (binary ? formatGuid(v) : v.toString('utf8')) : String(v))),
    );
  }
  return { dn: entry.dn, attributes };
}

function first(entry: Entry | undefined, name: string): string | undefined {
  if (!entry) return undefined;
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : entry[key];
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return undefined;
  return Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

function describe(err: unknown): string {
  if (err instanceof SizeLimitExceededError) {
    return `${err.name} (LDAP result ${err.code}): the directory limits how many entries the bind account may read; lift it for SOURCE_BIND_DN (OpenLDAP: limits dn.exact="<bind DN>" size=unlimited size.prtotal=unlimited)`;
  }
  if (err instanceof ResultCodeError) return `${err.name} (LDAP result ${err.code}): ${err.message}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : errorMessage(err);
}

/**
 * Reads users with `ldapts`: one connection per poll, bound as `SOURCE_BIND_DN`, searches with
 * the paged-results control. Which attributes, filters and ids are used depends on the dialect
 * (see `dialect.ts`); `auto` decides from the root DSE (AD publishes `dsServiceName` and
 * `highestCommittedUSN`).
 */
export class LdapDirectoryReader extends DirectoryReader {
  private requests = 0;
  private readonly tlsOptions: ConnectionOptions | undefined;

  constructor(private readonly settings: LdapSourceSettings) {
    super();
    const tls: ConnectionOptions = {};
    if (settings.tlsCaFile) tls.ca = readFileSync(settings.tlsCaFile);
    if (settings.tlsServerName) tls.servername = settings.tlsServerName;
    this.tlsOptions = Object.keys(tls).length > 0 ? tls : undefined;
  }

  override requestCount(): number {
    return this.requests;
  }

  override async open(): Promise<DirectorySession> {
    const s = this.settings;
    const client = new Client({
      url: s.url,
      timeout: s.timeoutMs,
      connectTimeout: s.timeoutMs,
      ...(this.tlsOptions && s.url.startsWith('ldaps:') ? { tlsOptions: this.tlsOptions } : {}),
    });
    try {
      if (s.startTls) {
        this.requests += 1;
        await client.startTLS(this.tlsOptions ?? {});
      }
      this.requests += 1;
      await client.bind(s.bindDn, s.bindPassword);
    } catch (err) {
      await client.unbind().catch(() => undefined);
      if (err instanceof InvalidCredentialsError)
        throw new DirectoryBindError(`bind as ${s.bindDn} refused: ${describe(err)}`, { cause: err });
      throw new DirectoryUnavailableError(`directory ${s.url} unavailable: ${describe(err)}`, { cause: err });
    }
    try {
      const server = await this.readRootDse(client);
      return new LdapSession(client, server, s, () => (this.requests += 1));
    } catch (err) {
      await client.unbind().catch(() => undefined);
      throw err;
    }
  }

  private async readRootDse(client: Client): Promise<ServerState> {
    this.requests += 1;
    const { searchEntries } = await wrap(() =>
      client.search('', {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: [
          'dsServiceName',
          'dnsHostName',
          'highestCommittedUSN',
          'namingContexts',
          'defaultNamingContext',
          'vendorName',
          'supportedControl',
        ],
      }),
    );
    const root = searchEntries[0];
    const isAd = first(root, 'dsServiceName') !== undefined && first(root, 'highestCommittedUSN') !== undefined;
    const dialect: SourceDialect = this.settings.dialect === 'auto' ? (isAd ? 'active-directory' : 'openldap') : this.settings.dialect;
    if (dialect !== 'active-directory') return { dialect };
    const serviceDn = first(root, 'dsServiceName');
    let invocationId = '';
    if (serviceDn) {
      this.requests += 1;
      const ntds = await wrap(() =>
        client.search(serviceDn, { scope: 'base', attributes: ['invocationId'], explicitBufferAttributes: ['invocationId'] }),
      );
      const raw = ntds.searchEntries[0]?.['invocationId'];
      const buf = Array.isArray(raw) ? raw[0] : raw;
      invocationId = Buffer.isBuffer(buf) ? formatGuid(buf) : String(buf ?? '');
    }
    return {
      dialect,
      dnsHostName: first(root, 'dnsHostName') ?? '',
      invocationId,
      highestCommittedUsn: first(root, 'highestCommittedUSN') ?? '0',
    };
  }
}

async function wrap<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new DirectoryUnavailableError(`directory search failed: ${describe(err)}`, { cause: err });
  }
}

class LdapSession implements DirectorySession {
  constructor(
    private readonly client: Client,
    readonly server: ServerState,
    private readonly settings: LdapSourceSettings,
    private readonly countRequest: () => void,
  ) {}

  private get attributes(): string[] {
    return [...new Set([...this.settings.attributes, ...DIALECT_ATTRIBUTES[this.server.dialect]])];
  }

  private async paged(base: string, filter: string, onPage: PageHandler, controls?: Control[]): Promise<void> {
    const pages = this.client.searchPaginated(
      base,
      {
        scope: 'sub',
        filter,
        attributes: this.attributes,
        explicitBufferAttributes: BINARY_ATTRIBUTES,
        paged: { pageSize: this.settings.pageSize },
      },
      controls,
    );
    this.countRequest();
    try {
      // Ask for the next page before handling this one, so the server works while we map and hash.
      let pending = pages.next();
      for (;;) {
        const page = await pending;
        if (page.done) break;
        pending = pages.next();
        // Only the first page is in flight before the loop; every later one is one more request.
        pending.then(
          (next) => void (next.done ? undefined : this.countRequest()),
          () => undefined,
        );
        await onPage(page.value.searchEntries.map(toRaw));
      }
    } catch (err) {
      if (err instanceof DirectoryUnavailableError) throw err;
      throw new DirectoryUnavailableError(`directory search failed: ${describe(err)}`, { cause: err });
    }
  }

  scanAll(onPage: PageHandler): Promise<void> {
    return this.paged(this.settings.baseDn, this.settings.userFilter(this.server.dialect), onPage);
  }

  changedSince(query: ChangeQuery, onPage: PageHandler): Promise<void> {
    const userFilter = this.settings.userFilter(this.server.dialect);
    if (query.dialect === 'active-directory') {
      // uSNChanged has no > in LDAP filters: ≥ (checkpoint + 1).
      const above = (BigInt(query.usnAbove) + 1n).toString();
      return this.paged(this.settings.baseDn, `(&${userFilter}(uSNChanged>=${above}))`, onPage);
    }
    if (query.modifiedSince === null) return this.paged(this.settings.baseDn, userFilter, onPage);
    const floor = changeQueryFloor(query.modifiedSince, this.settings.overlapSeconds);
    return this.paged(this.settings.baseDn, `(&${userFilter}(modifyTimestamp>=${floor}))`, onPage);
  }

  async deletedSince(usnAbove: string): Promise<string[]> {
    if (this.server.dialect !== 'active-directory') return [];
    const above = (BigInt(usnAbove) + 1n).toString();
    const ids: string[] = [];
    // Tombstones live in the Deleted Objects container of the domain, outside our base DN, and keep objectGUID.
    const domain = domainOf(this.settings.baseDn);
    this.countRequest();
    let result;
    try {
      result = await this.client.search(
        domain,
        {
          scope: 'sub',
          filter: `(&(isDeleted=TRUE)(objectClass=user)(uSNChanged>=${above}))`,
          attributes: ['objectGUID'],
          explicitBufferAttributes: ['objectGUID'],
        },
        [new Control(AD_SHOW_DELETED_OID, { critical: true })],
      );
    } catch (err) {
      // An account without the right to list Deleted Objects gets an LDAP error (or nothing):
      // deletions then come from the full-scan diff. Connection failures still fail the poll.
      if (err instanceof ResultCodeError) return [];
      throw new DirectoryUnavailableError(`directory search failed: ${describe(err)}`, { cause: err });
    }
    for (const entry of result.searchEntries) {
      const id = toRaw(entry).attributes.get('objectguid')?.[0];
      if (id) ids.push(id);
    }
    return ids;
  }

  async locate(entryId: string): Promise<Whereabouts> {
    this.countRequest();
    try {
      if (this.server.dialect === 'active-directory') {
        const r = await this.client.search(guidBase(entryId), { scope: 'base', attributes: ['1.1'] });
        return r.searchEntries.length > 0 ? 'elsewhere' : 'gone';
      }
      const r = await this.client.search(suffixOf(this.settings.baseDn), {
        scope: 'sub',
        filter: new EqualityFilter({ attribute: 'entryUUID', value: entryId }),
        attributes: ['1.1'],
        sizeLimit: 1,
      });
      return r.searchEntries.length > 0 ? 'elsewhere' : 'gone';
    } catch (err) {
      if (err instanceof NoSuchObjectError) return 'gone';
      throw new DirectoryUnavailableError(`directory search failed: ${describe(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.client.unbind().catch(() => undefined);
  }
}

/** The `dc=` components of a DN: the domain (AD) or the naming context (OpenLDAP) the base lies in. */
function domainOf(dn: string): string {
  const parts = dn.split(/(?<!\\),/).map((p) => p.trim());
  const dcs = parts.filter((p) => /^dc=/i.test(p));
  return dcs.length > 0 ? dcs.join(',') : dn;
}

const suffixOf = domainOf;
