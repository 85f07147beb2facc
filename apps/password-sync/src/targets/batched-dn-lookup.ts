import { EqualityFilter, OrFilter, ResultCodeError, type Client, type Entry } from 'ldapts';

/**
 * User attributes whose equality matching ignores case on the directories we target (OpenLDAP's
 * `caseIgnoreMatch` / `caseIgnoreIA5Match`, Active Directory's case-insensitive strings). Only for
 * these can a returned value be attributed to a requested id; any other attribute (whose matching
 * rule we do not know) is always searched for one id at a time.
 */
const CASE_INSENSITIVE_ATTRIBUTES: ReadonlySet<string> = new Set(['uid', 'samaccountname', 'userprincipalname', 'mail', 'cn']);

/** Printable ASCII: the only ids and values whose matching under those rules we can reason about. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * A key at least as coarse as the server's equality for printable ASCII: case, spaces, hyphens,
 * apostrophes and other punctuation dropped (RFC 4518 folds case and insignificant spaces; AD's
 * collation may weigh hyphens and apostrophes lightly). Two strings the server calls equal always
 * share this key, so the entries sharing an id's key include every entry that matches the id.
 */
function coarseKey(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]/g, '');
}

interface Waiter {
  readonly client: Client;
  readonly userId: string;
  readonly resolve: (dn: string | undefined) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Coalesces the DN lookups waiting at the same moment into one search `(|(attr=a)(attr=b)…)`.
 *
 * Lookups are gathered within one event-loop turn (a group commit releases many attempts at
 * once), never held for a batch to fill: the search goes at the next `setImmediate`. A lone lookup
 * is not searched here at all. The batch only saves searches and, but for a timeout (below),
 * never changes an outcome: an id gets a DN only when exactly one returned entry can match it and
 * that entry has a value equal to the id ignoring case. Everything else — no entry, several, a
 * value that is not printable ASCII, a possibly truncated result (`sizeLimit` reached), an error
 * — answers `undefined`, and the caller runs its own single search, which decides "not found"
 * and "ambiguous" as before.
 *
 * Except a timeout: a directory that did not answer the batch within the client's timeout hangs,
 * and each waiter's search alone would wait out a timeout of its own before its attempt could
 * fail — twice the timeout before the first recorded failure. So every waiter of a timed-out
 * batch gets its error at once (the target maps it to `target-unavailable`, and the attempt is
 * retried like any outage). The price: a batch that was merely slow fails attempts that a search
 * alone, a timeout later, might have applied.
 */
export class BatchedDnLookup {
  private pending: Waiter[] = [];
  private scheduled = false;
  private readonly batchable: boolean;

  /**
   * @param baseDn where users are searched (subtree)
   * @param attribute the user attribute; batching is off unless its matching is known to ignore case
   * @param maxIds the most ids in one search (its `sizeLimit` is twice that)
   */
  constructor(
    private readonly baseDn: string,
    private readonly attribute: string,
    private readonly maxIds = 32,
  ) {
    this.batchable = CASE_INSENSITIVE_ATTRIBUTES.has(attribute.toLowerCase());
  }

  /**
   * The DN of `userId`'s entry when a batched search proves it, else `undefined` (search alone).
   * `client` is a bound connection the caller holds until this settles; the batch may run on it.
   * @throws the batch's error to the caller whose connection the batch broke (it is closed:
   *   searching on it again would silently reconnect unbound), and to every caller when the batch
   *   timed out (the directory does not answer: see the class).
   */
  lookup(client: Client, userId: string): Promise<string | undefined> {
    if (!this.batchable || !PRINTABLE_ASCII.test(userId) || coarseKey(userId) === '') return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.pending.push({ client, userId, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const waiting = this.pending;
    this.pending = [];
    let batch: Waiter[] = [];
    const ids = new Set<string>();
    for (const waiter of waiting) {
      if (!ids.has(waiter.userId) && ids.size === this.maxIds) {
        void this.run(batch, [...ids]);
        batch = [];
        ids.clear();
      }
      batch.push(waiter);
      ids.add(waiter.userId);
    }
    if (batch.length > 0) void this.run(batch, [...ids]);
  }

  /** Searches for `ids` on the first waiter's connection and settles every waiter. */
  private async run(waiters: readonly Waiter[], ids: readonly string[]): Promise<void> {
    // One id saves nothing: its waiters search alone, exactly as without batching.
    if (ids.length < 2) {
      for (const w of waiters) w.resolve(undefined);
      return;
    }
    const client = waiters[0]!.client;
    let dns: ReadonlyMap<string, string>;
    try {
      const sizeLimit = 2 * ids.length;
      const { searchEntries } = await client.search(this.baseDn, {
        scope: 'sub',
        // Filter objects, not a string: no user id is ever parsed as filter syntax.
        filter: new OrFilter({ filters: ids.map((value) => new EqualityFilter({ attribute: this.attribute, value })) }),
        attributes: [this.attribute],
        sizeLimit,
      });
      // ldapts returns a size-limited result without an error: at the limit it may be truncated.
      dns = searchEntries.length >= sizeLimit ? new Map() : attributeEntries(searchEntries, this.attribute, ids);
    } catch (err) {
      const hung = timedOut(err);
      for (const [i, w] of waiters.entries()) {
        if (hung || (i === 0 && !client.isConnected)) w.reject(err);
        else w.resolve(undefined);
      }
      return;
    }
    for (const w of waiters) w.resolve(dns.get(w.userId));
  }
}

/**
 * True when ldapts gave up waiting for the answer (`<Request>: Operation timed out`, a plain
 * `Error`; it has destroyed the socket). A result code, even "time limit exceeded", is an answer.
 */
function timedOut(err: unknown): boolean {
  return err instanceof Error && !(err instanceof ResultCodeError) && /: Operation timed out$/.test(err.message);
}

/**
 * The ids (of `ids`) that exactly one of `entries` can match, with that entry's DN — only where
 * the entry holds a value equal to the id ignoring case, so the server surely matched it. Empty
 * when any entry has a value we cannot reason about: it might match any id.
 */
export function attributeEntries(entries: readonly Entry[], userAttribute: string, ids: readonly string[]): ReadonlyMap<string, string> {
  const byKey = new Map<string, Array<{ readonly dn: string; readonly values: readonly string[] }>>();
  const wanted = userAttribute.toLowerCase();
  for (const entry of entries) {
    // The server may spell the attribute's name in another case than asked.
    const name = Object.keys(entry).find((k) => k !== 'dn' && k.toLowerCase() === wanted);
    const raw: unknown = name === undefined ? [] : entry[name];
    const values = (Array.isArray(raw) ? raw : [raw]) as unknown[];
    if (values.length === 0 || !values.every((v): v is string => typeof v === 'string' && PRINTABLE_ASCII.test(v))) return new Map();
    const candidate = { dn: entry.dn, values: values as string[] };
    for (const key of new Set(candidate.values.map(coarseKey))) {
      const list = byKey.get(key) ?? [];
      list.push(candidate);
      byKey.set(key, list);
    }
  }
  const dns = new Map<string, string>();
  for (const id of ids) {
    const candidates = byKey.get(coarseKey(id)) ?? [];
    const lower = id.toLowerCase();
    if (candidates.length === 1 && candidates[0]!.values.some((v) => v.toLowerCase() === lower)) dns.set(id, candidates[0]!.dn);
  }
  return dns;
}
