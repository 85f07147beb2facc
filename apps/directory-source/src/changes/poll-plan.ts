import { Cron } from 'croner';
import type { SourceDialect } from '../directory/dialect.js';

/** What the root DSE says about the server, read at the start of every poll. */
export interface ServerState {
  readonly dialect: SourceDialect;
  /** AD: the domain controller answering (`dnsHostName`). */
  readonly dnsHostName?: string;
  /** AD: the DC's database identity (NTDS Settings `invocationId`); a restored DC gets a new one. */
  readonly invocationId?: string;
  /** AD: `highestCommittedUSN`, read before the change query, so nothing committed before it is missed. */
  readonly highestCommittedUsn?: string;
}

/** Where the last successful poll stopped; saved only after its events were stored. */
export type Checkpoint =
  | {
      readonly dialect: 'openldap';
      /** Highest `modifyTimestamp` seen (server time, generalized time); null when no entry was seen. */
      readonly modifiedSince: string | null;
      readonly lastFullScanAt: string;
    }
  | {
      readonly dialect: 'active-directory';
      readonly dnsHostName: string;
      readonly invocationId: string;
      /** USNs are per DC: only meaningful together with the two fields above. */
      readonly usn: string;
      readonly lastFullScanAt: string;
    };

/** Why a poll reads every user. */
export type FullScanReason = 'first-start' | 'scheduled' | 'dialect-changed' | 'dc-changed' | 'dc-restored';

/** What one poll does. */
export type PollPlan =
  | { readonly kind: 'full'; readonly reason: FullScanReason }
  | { readonly kind: 'incremental'; readonly dialect: 'openldap'; readonly modifiedSince: string | null }
  | { readonly kind: 'incremental'; readonly dialect: 'active-directory'; readonly usnAbove: string };

/** The next slot of `cron` after `after`, or undefined when it never fires. */
function nextSlot(cron: string, after: Date): Date | undefined {
  return new Cron(cron, { paused: true }).nextRun(after) ?? undefined;
}

/**
 * Full scan or change query? A full scan on the first start, when the full-scan schedule has a
 * slot between the last full scan and `now`, when the directory kind changed, and on AD when a
 * different DC answers or the same DC was restored (other `invocationId`): USNs of another
 * database say nothing about ours.
 */
export function planPoll(checkpoint: Checkpoint | undefined, server: ServerState, fullScanCron: string, now: Date): PollPlan {
  if (!checkpoint) return { kind: 'full', reason: 'first-start' };
  if (checkpoint.dialect !== server.dialect) return { kind: 'full', reason: 'dialect-changed' };
  const next = nextSlot(fullScanCron, new Date(checkpoint.lastFullScanAt));
  if (next && next.getTime() <= now.getTime()) return { kind: 'full', reason: 'scheduled' };
  if (checkpoint.dialect === 'active-directory') {
    if (checkpoint.dnsHostName.toLowerCase() !== (server.dnsHostName ?? '').toLowerCase()) return { kind: 'full', reason: 'dc-changed' };
    if (checkpoint.invocationId !== server.invocationId) return { kind: 'full', reason: 'dc-restored' };
    return { kind: 'incremental', dialect: 'active-directory', usnAbove: checkpoint.usn };
  }
  return { kind: 'incremental', dialect: 'openldap', modifiedSince: checkpoint.modifiedSince };
}

/**
 * The checkpoint after a successful poll. OpenLDAP: the highest `modifyTimestamp` among the
 * entries read (never the local clock). AD: the `highestCommittedUSN` read before the query.
 */
export function nextCheckpoint(
  previous: Checkpoint | undefined,
  plan: PollPlan,
  server: ServerState,
  modifiedTimes: readonly (string | null)[],
  now: Date,
): Checkpoint {
  const lastFullScanAt = plan.kind === 'full' || !previous ? now.toISOString() : previous.lastFullScanAt;
  if (server.dialect === 'active-directory') {
    return {
      dialect: 'active-directory',
      dnsHostName: server.dnsHostName ?? '',
      invocationId: server.invocationId ?? '',
      usn: server.highestCommittedUsn ?? '0',
      lastFullScanAt,
    };
  }
  let modifiedSince = previous?.dialect === 'openldap' ? previous.modifiedSince : null;
  for (const t of modifiedTimes)
    if (t !== null && (modifiedSince === null || compareGeneralizedTime(t, modifiedSince) > 0)) modifiedSince = t;
  return { dialect: 'openldap', modifiedSince, lastFullScanAt };
}

/** Parses LDAP generalized time (`20261130104500Z`, optional fraction and offset). */
export function parseGeneralizedTime(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})$/.exec(value);
  if (!m) throw new RangeError(`not an LDAP generalized time: ${JSON.stringify(value)}`);
  const [, y, mo, d, h, mi = '00', s = '00', frac = '0', zone] = m;
  const ms = Math.round(Number(`0.${frac}`) * 1000);
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (zone !== 'Z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    t -= sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(3, 5))) * 60_000;
  }
  return new Date(t);
}

/** Formats a time as LDAP generalized time in UTC, to the second (`20261130104500Z`). */
export function formatGeneralizedTime(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Orders two generalized times. */
export function compareGeneralizedTime(a: string, b: string): number {
  // The usual case, two UTC values to the second: text order is time order.
  if (a.length === 15 && b.length === 15 && a.endsWith('Z') && b.endsWith('Z')) return a < b ? -1 : a > b ? 1 : 0;
  return parseGeneralizedTime(a).getTime() - parseGeneralizedTime(b).getTime();
}

/**
 * The lower bound of OpenLDAP's change query: the checkpoint minus the overlap window, because
 * `modifyTimestamp` has one-second resolution and a write stamped before the last poll's read
 * may commit after it. Entries seen again are dropped by their unchanged `entryCSN`.
 */
export function changeQueryFloor(modifiedSince: string, overlapSeconds: number): string {
  return formatGeneralizedTime(new Date(parseGeneralizedTime(modifiedSince).getTime() - overlapSeconds * 1000));
}
