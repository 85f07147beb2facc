/** How long an unsynced password stays cached. `minutes: null` means never (the seed's `-1`). */
export interface ExpirationPolicy {
  readonly minutes: number | null;
  /** The source polling interval the floor was derived from, in seconds. */
  readonly pollingIntervalSeconds: number;
  /** Things an operator should read once at start. */
  readonly warnings: readonly string[];
}

/** Raw inputs, exactly as the environment holds them. */
export interface ExpirationPolicyInputs {
  readonly PASSWORD_EXPIRATION_MINUTES?: string | undefined;
  readonly SOURCE_POLLING_INTERVAL_SECONDS?: string | undefined;
}

/** Default expiration when unset or unreadable, per the seed. */
export const DEFAULT_EXPIRATION_MINUTES = 60;
/** Default source polling interval. */
export const DEFAULT_POLLING_INTERVAL_SECONDS = 60;
/** 100 years: beyond this a JS Date overflows long before anyone waits for it. */
export const MAX_EXPIRATION_MINUTES = 100 * 365 * 24 * 60;

// Digits with an optional fraction and sign; anything else ("abc", "1e3", "60m") is "invalid characters".
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function parseDecimal(raw: string | undefined): number | undefined | 'invalid' {
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (!DECIMAL.test(text)) return 'invalid';
  const value = Number(text);
  return Number.isFinite(value) ? value : 'invalid';
}

/**
 * Resolves `PASSWORD_EXPIRATION_MINUTES` against `SOURCE_POLLING_INTERVAL_SECONDS` by the seed's rules:
 * unset → 60; not a number → 60 with a warning; `-1` → never, with a warning that the cache can grow
 * without bound; other negatives → 60 with a warning; any value (including the default) below three
 * polling intervals → raised to three polling intervals, with a warning; more than 100 years → capped.
 */
export function resolveExpirationPolicy(inputs: ExpirationPolicyInputs): ExpirationPolicy {
  const warnings: string[] = [];

  let pollingIntervalSeconds = DEFAULT_POLLING_INTERVAL_SECONDS;
  const polling = parseDecimal(inputs.SOURCE_POLLING_INTERVAL_SECONDS);
  if (polling === 'invalid' || (typeof polling === 'number' && polling <= 0)) {
    warnings.push(
      `SOURCE_POLLING_INTERVAL_SECONDS=${JSON.stringify(inputs.SOURCE_POLLING_INTERVAL_SECONDS)} is not a positive number; using ${DEFAULT_POLLING_INTERVAL_SECONDS} s`,
    );
  } else if (typeof polling === 'number') {
    pollingIntervalSeconds = polling;
  }

  const raw = inputs.PASSWORD_EXPIRATION_MINUTES;
  const parsed = parseDecimal(raw);
  let minutes: number;
  if (parsed === undefined) {
    minutes = DEFAULT_EXPIRATION_MINUTES;
  } else if (parsed === 'invalid') {
    warnings.push(
      `PASSWORD_EXPIRATION_MINUTES=${JSON.stringify(raw)} is not a number; using the default of ${DEFAULT_EXPIRATION_MINUTES} minutes`,
    );
    minutes = DEFAULT_EXPIRATION_MINUTES;
  } else if (parsed === -1) {
    warnings.push(
      'PASSWORD_EXPIRATION_MINUTES=-1: cached passwords never expire. A password for a user that is never created ' +
        'stays cached forever, so the cache can grow without bound; its size is reported by the sweeper',
    );
    return { minutes: null, pollingIntervalSeconds, warnings };
  } else if (parsed < 0) {
    warnings.push(
      `PASSWORD_EXPIRATION_MINUTES=${JSON.stringify(raw)} is negative; only -1 (never) is allowed; using the default of ${DEFAULT_EXPIRATION_MINUTES} minutes`,
    );
    minutes = DEFAULT_EXPIRATION_MINUTES;
  } else {
    minutes = parsed;
  }

  const floor = (3 * pollingIntervalSeconds) / 60;
  if (minutes < floor) {
    warnings.push(
      `PASSWORD_EXPIRATION_MINUTES=${minutes} is less than three source polling intervals (3 × ${pollingIntervalSeconds} s); raised to ${floor} minutes`,
    );
    minutes = floor;
  }
  if (minutes > MAX_EXPIRATION_MINUTES) {
    warnings.push(
      `PASSWORD_EXPIRATION_MINUTES=${minutes} is more than 100 years; capped at ${MAX_EXPIRATION_MINUTES} minutes (use -1 for never)`,
    );
    minutes = MAX_EXPIRATION_MINUTES;
  }
  return { minutes, pollingIntervalSeconds, warnings };
}

/** When a password cached at `cachedAt` expires under `policy`; null = never. */
export function expiresAtFor(cachedAt: Date, policy: Pick<ExpirationPolicy, 'minutes'>): Date | null {
  if (policy.minutes === null) return null;
  return new Date(cachedAt.getTime() + Math.round(policy.minutes * 60_000));
}
