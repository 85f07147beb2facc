import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expiresAtFor, MAX_EXPIRATION_MINUTES, resolveExpirationPolicy, type ExpirationPolicyInputs } from './expiration-policy.js';

interface Row {
  readonly name: string;
  readonly given: ExpirationPolicyInputs;
  readonly minutes: number | null;
  /** Substrings each expected warning contains, in order; [] = no warnings. */
  readonly warnings: readonly RegExp[];
}

const rows: readonly Row[] = [
  { name: 'unset → 60, silently', given: {}, minutes: 60, warnings: [] },
  { name: 'empty → 60, silently', given: { PASSWORD_EXPIRATION_MINUTES: '' }, minutes: 60, warnings: [] },
  { name: 'a plain number is taken', given: { PASSWORD_EXPIRATION_MINUTES: '300' }, minutes: 300, warnings: [] },
  { name: 'surrounding spaces are tolerated', given: { PASSWORD_EXPIRATION_MINUTES: ' 90 ' }, minutes: 90, warnings: [] },
  { name: '"abc" → 60 with a warning', given: { PASSWORD_EXPIRATION_MINUTES: 'abc' }, minutes: 60, warnings: [/"abc" is not a number/] },
  {
    name: '"60m" (invalid characters) → 60 with a warning',
    given: { PASSWORD_EXPIRATION_MINUTES: '60m' },
    minutes: 60,
    warnings: [/not a number/],
  },
  {
    name: '"1e3" (exponent is an invalid character) → 60 with a warning',
    given: { PASSWORD_EXPIRATION_MINUTES: '1e3' },
    minutes: 60,
    warnings: [/not a number/],
  },
  { name: 'decimals are allowed: "4.5"', given: { PASSWORD_EXPIRATION_MINUTES: '4.5' }, minutes: 4.5, warnings: [] },
  {
    name: '"0.5" with the default 60 s polling → raised to 3 minutes',
    given: { PASSWORD_EXPIRATION_MINUTES: '0.5' },
    minutes: 3,
    warnings: [/less than three source polling intervals.*raised to 3 minutes/],
  },
  {
    name: '"0.5" with 5 s polling is above the 0.25-minute floor',
    given: { PASSWORD_EXPIRATION_MINUTES: '0.5', SOURCE_POLLING_INTERVAL_SECONDS: '5' },
    minutes: 0.5,
    warnings: [],
  },
  {
    name: 'below 3 × polling → raised to 3 × polling',
    given: { PASSWORD_EXPIRATION_MINUTES: '10', SOURCE_POLLING_INTERVAL_SECONDS: '600' },
    minutes: 30,
    warnings: [/raised to 30 minutes/],
  },
  {
    name: 'exactly 3 × polling is kept',
    given: { PASSWORD_EXPIRATION_MINUTES: '30', SOURCE_POLLING_INTERVAL_SECONDS: '600' },
    minutes: 30,
    warnings: [],
  },
  {
    name: 'the default is raised too when polling is slow',
    given: { SOURCE_POLLING_INTERVAL_SECONDS: '3600' },
    minutes: 180,
    warnings: [/raised to 180 minutes/],
  },
  { name: '0 → raised to 3 × polling', given: { PASSWORD_EXPIRATION_MINUTES: '0' }, minutes: 3, warnings: [/raised to 3 minutes/] },
  {
    name: '-1 → never, warning that the cache can grow without bound',
    given: { PASSWORD_EXPIRATION_MINUTES: '-1' },
    minutes: null,
    warnings: [/never expire.*grow without bound/s],
  },
  {
    name: '-1 is never even with slow polling (no floor applies)',
    given: { PASSWORD_EXPIRATION_MINUTES: '-1', SOURCE_POLLING_INTERVAL_SECONDS: '3600' },
    minutes: null,
    warnings: [/never expire/],
  },
  { name: '-5 → 60 with a warning', given: { PASSWORD_EXPIRATION_MINUTES: '-5' }, minutes: 60, warnings: [/negative; only -1/] },
  { name: '-1.5 → 60 with a warning', given: { PASSWORD_EXPIRATION_MINUTES: '-1.5' }, minutes: 60, warnings: [/negative; only -1/] },
  {
    name: 'huge values are capped at 100 years',
    given: { PASSWORD_EXPIRATION_MINUTES: '99999999999999999999' },
    minutes: MAX_EXPIRATION_MINUTES,
    warnings: [/more than 100 years; capped/],
  },
  {
    name: "18,000 passwords → 300 minutes (the seed's rule of thumb) is kept",
    given: { PASSWORD_EXPIRATION_MINUTES: '300' },
    minutes: 300,
    warnings: [],
  },
  {
    name: 'an invalid polling interval falls back to 60 s with a warning',
    given: { PASSWORD_EXPIRATION_MINUTES: '2', SOURCE_POLLING_INTERVAL_SECONDS: 'soon' },
    minutes: 3,
    warnings: [/SOURCE_POLLING_INTERVAL_SECONDS="soon" is not a positive number/, /raised to 3 minutes/],
  },
  {
    name: 'a zero polling interval falls back to 60 s with a warning',
    given: { SOURCE_POLLING_INTERVAL_SECONDS: '0' },
    minutes: 60,
    warnings: [/not a positive number/],
  },
];

describe('resolveExpirationPolicy', () => {
  for (const row of rows) {
    it(row.name, () => {
      const policy = resolveExpirationPolicy(row.given);
      assert.equal(policy.minutes, row.minutes);
      assert.equal(policy.warnings.length, row.warnings.length, `warnings: ${JSON.stringify(policy.warnings)}`);
      row.warnings.forEach((pattern, i) => assert.match(policy.warnings[i]!, pattern));
    });
  }
});

describe('expiresAtFor', () => {
  const cachedAt = new Date('2026-01-01T00:00:00.000Z');
  it('adds the minutes, decimals included', () => {
    assert.equal(expiresAtFor(cachedAt, { minutes: 4.5 })?.toISOString(), '2026-01-01T00:04:30.000Z');
  });
  it('is null when the policy never expires', () => {
    assert.equal(expiresAtFor(cachedAt, { minutes: null }), null);
  });
  it('stays a valid date at the cap', () => {
    assert.equal(Number.isNaN(expiresAtFor(cachedAt, { minutes: MAX_EXPIRATION_MINUTES })!.getTime()), false);
  });
});
