import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AD_ACCOUNT_DISABLED, OPENLDAP_PERMANENT_LOCK, type SourceDialect } from '../directory/dialect.js';

/** An entry as the directory returned it: lower-cased attribute names → string values (binary ids already formatted). */
export interface RawEntry {
  readonly dn: string;
  readonly attributes: ReadonlyMap<string, readonly string[]>;
}

/** A reported attribute value as it travels in events: one value, several, a flag, or absent (null). */
export type ReportedValue = string | readonly string[] | boolean | null;

/** The reported attributes of a user, by their name in events. */
export type ReportedValues = Readonly<Record<string, ReportedValue>>;

/** A directory user, ready for change detection. */
export interface SourceEntry {
  readonly userId: string;
  /** `entryUUID` (OpenLDAP) / `objectGUID` (AD): survives renames and moves. */
  readonly entryId: string;
  /** `entryCSN` (OpenLDAP) / `uSNChanged` (AD): differs after every write to the entry. */
  readonly stamp: string;
  /** OpenLDAP's `modifyTimestamp` (server time): the incremental poll's checkpoint; null on AD. */
  readonly modifiedAt: string | null;
  /** A valid mail address, or null (absent, or not an address). */
  readonly email: string | null;
  readonly displayName: string | null;
  readonly enabled: boolean;
  /** What a change is reported on: `mail`, `displayName`, `enabled` and `SOURCE_ATTRIBUTES`. */
  readonly reported: ReportedValues;
  /** SHA-256 of the reported values in a canonical form; equal hashes = nothing reported changed. */
  readonly hash: string;
}

/** How entries are read: which attribute holds what. */
export interface EntryMapping {
  readonly dialect: SourceDialect;
  readonly userIdAttribute: string;
  readonly emailAttribute: string;
  readonly displayNameAttribute: string;
  /** Further attributes whose changes are reported, under their own names. */
  readonly reportedAttributes: readonly string[];
}

/** Why an entry was skipped (a warning and a metric each, never a stuck poll). */
export type SkipReason = 'missing-user-id' | 'invalid-user-id' | 'missing-entry-id' | 'missing-change-stamp';

/** Something wrong with an entry that still yields a user. */
export type EntryWarning = 'invalid-email';

/** The outcome of reading one entry. */
export type EntryOutcome =
  | { readonly kind: 'entry'; readonly entry: SourceEntry; readonly warnings: readonly EntryWarning[] }
  | { readonly kind: 'skip'; readonly reason: SkipReason; readonly dn: string };

const emailSchema = z.email();
/** The contracts' limit on a user id. */
const MAX_USER_ID = 256;

function values(raw: RawEntry, attribute: string): readonly string[] {
  return raw.attributes.get(attribute.toLowerCase()) ?? [];
}

function first(raw: RawEntry, attribute: string): string | null {
  const v = values(raw, attribute)[0];
  return v === undefined || v === '' ? null : v;
}

function reportedValue(raw: RawEntry, attribute: string): ReportedValue {
  const v = values(raw, attribute);
  if (v.length === 0) return null;
  // Multi-valued attributes are compared as sets: the server's value order is not a change.
  return v.length === 1 ? v[0]! : [...v].sort();
}

function isEnabled(raw: RawEntry, dialect: SourceDialect): boolean {
  if (dialect === 'active-directory') {
    const uac = Number(first(raw, 'userAccountControl') ?? '0');
    return (uac & AD_ACCOUNT_DISABLED) === 0;
  }
  return first(raw, 'pwdAccountLockedTime') !== OPENLDAP_PERMANENT_LOCK;
}

/** The canonical hash of reported values: keys sorted, so attribute order never looks like a change. */
export function hashReported(reported: ReportedValues): string {
  const canonical = JSON.stringify(
    Object.keys(reported)
      .sort()
      .map((k) => [k, reported[k]]),
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Reads one directory entry into a {@link SourceEntry}. The reported values are keyed `mail` (the
 * email attribute), `displayName` (the display-name attribute), `enabled`, and each
 * `SOURCE_ATTRIBUTES` name, so consumers see the same keys whatever the directory calls them.
 * An entry without a user id, stable id or change stamp is skipped; a mail value that is not an
 * address leaves `email` null with a warning (the raw value is still reported under `mail`).
 */
export function toSourceEntry(raw: RawEntry, mapping: EntryMapping): EntryOutcome {
  const userId = first(raw, mapping.userIdAttribute);
  if (userId === null) return { kind: 'skip', reason: 'missing-user-id', dn: raw.dn };
  if (userId.length > MAX_USER_ID) return { kind: 'skip', reason: 'invalid-user-id', dn: raw.dn };
  const ad = mapping.dialect === 'active-directory';
  const entryId = first(raw, ad ? 'objectGUID' : 'entryUUID');
  if (entryId === null) return { kind: 'skip', reason: 'missing-entry-id', dn: raw.dn };
  const stamp = first(raw, ad ? 'uSNChanged' : 'entryCSN');
  if (stamp === null) return { kind: 'skip', reason: 'missing-change-stamp', dn: raw.dn };
  const warnings: EntryWarning[] = [];
  const mail = first(raw, mapping.emailAttribute);
  let email: string | null = null;
  if (mail !== null) {
    if (emailSchema.safeParse(mail).success) email = mail;
    else warnings.push('invalid-email');
  }
  const enabled = isEnabled(raw, mapping.dialect);
  const reported: Record<string, ReportedValue> = {};
  for (const attribute of mapping.reportedAttributes) reported[attribute] = reportedValue(raw, attribute);
  reported['mail'] = reportedValue(raw, mapping.emailAttribute);
  reported['displayName'] = reportedValue(raw, mapping.displayNameAttribute);
  reported['enabled'] = enabled;
  return {
    kind: 'entry',
    entry: {
      userId,
      entryId,
      stamp,
      modifiedAt: ad ? null : first(raw, 'modifyTimestamp'),
      email,
      displayName: first(raw, mapping.displayNameAttribute),
      enabled,
      reported,
      hash: hashReported(reported),
    },
    warnings,
  };
}
