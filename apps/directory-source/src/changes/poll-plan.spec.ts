import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  changeQueryFloor,
  formatGeneralizedTime,
  nextCheckpoint,
  parseGeneralizedTime,
  planPoll,
  type Checkpoint,
  type ServerState,
} from './poll-plan.js';

const NOW = new Date('2026-11-30T10:00:00.000Z');
const DAILY = '0 3 * * *';
const openldap: ServerState = { dialect: 'openldap' };
const dc1: ServerState = { dialect: 'active-directory', dnsHostName: 'dc1.idm.test', invocationId: 'inv-1', highestCommittedUsn: '5000' };
const ldapCheckpoint: Checkpoint = { dialect: 'openldap', modifiedSince: '20261130095900Z', lastFullScanAt: '2026-11-30T04:00:00.000Z' };
const adCheckpoint: Checkpoint = {
  dialect: 'active-directory',
  dnsHostName: 'DC1.idm.test',
  invocationId: 'inv-1',
  usn: '4000',
  lastFullScanAt: '2026-11-30T04:00:00.000Z',
};

describe('planning a poll', () => {
  it('first start: a full scan', () => {
    assert.deepEqual(planPoll(undefined, openldap, DAILY, NOW), { kind: 'full', reason: 'first-start' });
  });

  it('OpenLDAP after a recent full scan: a change query from the checkpoint', () => {
    assert.deepEqual(planPoll(ldapCheckpoint, openldap, DAILY, NOW), {
      kind: 'incremental',
      dialect: 'openldap',
      modifiedSince: '20261130095900Z',
    });
  });

  it('a full-scan slot passed since the last full scan: a full scan', () => {
    assert.deepEqual(planPoll({ ...ldapCheckpoint, lastFullScanAt: '2026-11-29T02:00:00.000Z' }, openldap, DAILY, NOW), {
      kind: 'full',
      reason: 'scheduled',
    });
  });

  it('AD, same DC (host name in any case) and invocationId: USNs above the checkpoint', () => {
    assert.deepEqual(planPoll(adCheckpoint, dc1, DAILY, NOW), { kind: 'incremental', dialect: 'active-directory', usnAbove: '4000' });
  });

  it('AD, another DC: one full resync', () => {
    assert.deepEqual(planPoll(adCheckpoint, { ...dc1, dnsHostName: 'dc2.idm.test' }, DAILY, NOW), { kind: 'full', reason: 'dc-changed' });
  });

  it('AD, the same DC restored from backup (new invocationId): one full resync', () => {
    assert.deepEqual(planPoll(adCheckpoint, { ...dc1, invocationId: 'inv-2' }, DAILY, NOW), { kind: 'full', reason: 'dc-restored' });
  });

  it('the directory kind changed: a full scan', () => {
    assert.deepEqual(planPoll(ldapCheckpoint, dc1, DAILY, NOW), { kind: 'full', reason: 'dialect-changed' });
  });
});

describe('the next checkpoint', () => {
  it('OpenLDAP: the highest modifyTimestamp read, never lower than before, never the local clock', () => {
    const plan = { kind: 'incremental', dialect: 'openldap', modifiedSince: '20261130095900Z' } as const;
    const next = nextCheckpoint(ldapCheckpoint, plan, openldap, ['20261130095930Z', null, '20261130095910Z'], NOW);
    assert.deepEqual(next, { dialect: 'openldap', modifiedSince: '20261130095930Z', lastFullScanAt: '2026-11-30T04:00:00.000Z' });
    assert.deepEqual(nextCheckpoint(ldapCheckpoint, plan, openldap, [], NOW), ldapCheckpoint, 'nothing read: the checkpoint stays');
    assert.deepEqual(nextCheckpoint(ldapCheckpoint, plan, openldap, ['20261130090000Z'], NOW), ldapCheckpoint);
  });

  it('AD: the DC identity and the USN read before the query; a full scan moves lastFullScanAt', () => {
    assert.deepEqual(nextCheckpoint(undefined, { kind: 'full', reason: 'first-start' }, dc1, [], NOW), {
      dialect: 'active-directory',
      dnsHostName: 'dc1.idm.test',
      invocationId: 'inv-1',
      usn: '5000',
      lastFullScanAt: NOW.toISOString(),
    });
  });
});

describe('generalized time', () => {
  it('parses and formats UTC, offsets and fractions', () => {
    assert.equal(parseGeneralizedTime('20261130104500Z').toISOString(), '2026-11-30T10:45:00.000Z');
    assert.equal(parseGeneralizedTime('20261130104500.5Z').toISOString(), '2026-11-30T10:45:00.500Z');
    assert.equal(parseGeneralizedTime('20261130124500+0200').toISOString(), '2026-11-30T10:45:00.000Z');
    assert.equal(formatGeneralizedTime(new Date('2026-11-30T10:45:00.999Z')), '20261130104500Z');
    assert.throws(() => parseGeneralizedTime('yesterday'), RangeError);
  });

  it('the change query starts the overlap window before the checkpoint', () => {
    assert.equal(changeQueryFloor('20261130100000Z', 10), '20261130095950Z');
  });
});
