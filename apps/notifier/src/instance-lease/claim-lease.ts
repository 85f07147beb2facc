/**
 * When a claim on a pending email stops protecting it. Pure: time arrives as data. The claim
 * query in `PendingEmailRepository.claim` is the SQL form of {@link isClaimFree}; the int-spec
 * checks that both agree on SQLite and Postgres.
 */

/** How instance leases and claims age. */
export interface LeaseSettings {
  /** A lease whose last heartbeat is older than this has lapsed: its owner is taken for dead. */
  readonly leaseTimeoutMs: number;
  /** How often a live instance renews its lease; well under {@link leaseTimeoutMs}. */
  readonly heartbeatMs: number;
  /**
   * Backstop for claims whose owner is alive but whose run hangs, and for claims taken before
   * leases existed (no owner): after this long without renewal any claim may be taken over.
   */
  readonly claimTtlMs: number;
}

/** The instants a claim run compares against. */
export interface ClaimCutoffs {
  /** Claims renewed before this are expired whoever holds them. */
  readonly expiredBefore: Date;
  /** Leases last renewed before this have lapsed; their owners' claims are free. */
  readonly lapsedBefore: Date;
}

/** What the claim check needs to know about one pending email. */
export interface ClaimState {
  readonly claimToken: string | null;
  readonly claimedAt: Date | null;
  /** Instance that took the claim; null for an unclaimed row or a claim from before leases. */
  readonly claimOwner: string | null;
}

/** The cutoffs of a claim run at `now`. */
export function claimCutoffs(now: Date, settings: LeaseSettings): ClaimCutoffs {
  return {
    expiredBefore: new Date(now.getTime() - settings.claimTtlMs),
    lapsedBefore: new Date(now.getTime() - settings.leaseTimeoutMs),
  };
}

/**
 * True when a run may claim the email: it is unclaimed, its claim expired, or its owner's lease
 * lapsed (or is gone: purged after a day, or deleted by hand). `ownerHeartbeat` is the owner's
 * last heartbeat, undefined when there is no lease row for it.
 */
export function isClaimFree(claim: ClaimState, ownerHeartbeat: Date | undefined, cutoffs: ClaimCutoffs): boolean {
  if (claim.claimToken === null || claim.claimedAt === null) return true;
  if (claim.claimedAt < cutoffs.expiredBefore) return true;
  if (claim.claimOwner === null) return false;
  return ownerHeartbeat === undefined || ownerHeartbeat < cutoffs.lapsedBefore;
}

/**
 * Checks lease settings: a heartbeat must come at least twice per timeout, so one late or lost
 * heartbeat does not let a live instance's claims be taken. Returns a message, or undefined when fine.
 */
export function leaseSettingsProblem(settings: LeaseSettings): string | undefined {
  if (settings.heartbeatMs * 2 > settings.leaseTimeoutMs) {
    return `NOTIFIER_LEASE_HEARTBEAT_SECONDS (${settings.heartbeatMs / 1000}) must be at most half of NOTIFIER_LEASE_TIMEOUT_SECONDS (${settings.leaseTimeoutMs / 1000})`;
  }
  if (settings.claimTtlMs < settings.leaseTimeoutMs) {
    return `EMAIL_CLAIM_TTL_SECONDS (${settings.claimTtlMs / 1000}) must not be shorter than NOTIFIER_LEASE_TIMEOUT_SECONDS (${settings.leaseTimeoutMs / 1000})`;
  }
  return undefined;
}
