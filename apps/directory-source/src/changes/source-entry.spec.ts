import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toSourceEntry, type EntryMapping, type RawEntry } from './source-entry.js';

const openldap: EntryMapping = {
  dialect: 'openldap',
  userIdAttribute: 'uid',
  emailAttribute: 'mail',
  displayNameAttribute: 'displayName',
  reportedAttributes: ['title', 'telephoneNumber'],
};
const ad: EntryMapping = { ...openldap, dialect: 'active-directory', userIdAttribute: 'sAMAccountName' };

function raw(attributes: Record<string, string | string[]>, dn = 'uid=ada,ou=people,dc=idm,dc=test'): RawEntry {
  return { dn, attributes: new Map(Object.entries(attributes).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]])) };
}

const ada = {
  uid: 'ada',
  entryUUID: 'uuid-1',
  entryCSN: 'csn-1',
  modifyTimestamp: '20261130100000Z',
  mail: 'ada@example.com',
  displayName: 'Ada Lovelace',
  title: 'Countess',
};

describe('reading a directory entry', () => {
  it('an OpenLDAP person: ids, stamp, address, name, reported values keyed mail / displayName / enabled', () => {
    const outcome = toSourceEntry(raw(ada), openldap);
    assert.equal(outcome.kind, 'entry');
    if (outcome.kind !== 'entry') return;
    const { entry } = outcome;
    assert.deepEqual(
      {
        userId: entry.userId,
        entryId: entry.entryId,
        stamp: entry.stamp,
        modifiedAt: entry.modifiedAt,
        email: entry.email,
        displayName: entry.displayName,
        enabled: entry.enabled,
      },
      {
        userId: 'ada',
        entryId: 'uuid-1',
        stamp: 'csn-1',
        modifiedAt: '20261130100000Z',
        email: 'ada@example.com',
        displayName: 'Ada Lovelace',
        enabled: true,
      },
    );
    assert.deepEqual(entry.reported, {
      title: 'Countess',
      telephoneNumber: null,
      mail: 'ada@example.com',
      displayName: 'Ada Lovelace',
      enabled: true,
    });
    assert.deepEqual(outcome.warnings, []);
  });

  it('the same values in another order and attribute-name case hash the same', () => {
    const a = toSourceEntry(raw({ ...ada, title: ['b', 'a'] }), openldap);
    const b = toSourceEntry(raw({ ...ada, TITLE: ['a', 'b'], title: ['a', 'b'] }), openldap);
    assert.ok(a.kind === 'entry' && b.kind === 'entry');
    assert.equal(a.entry.hash, b.entry.hash);
    assert.deepEqual(a.entry.reported['title'], ['a', 'b']);
  });

  it('an entry without the id attribute is skipped (missing-user-id)', () => {
    const { uid: _uid, ...rest } = ada;
    assert.deepEqual(toSourceEntry(raw(rest), openldap), {
      kind: 'skip',
      reason: 'missing-user-id',
      dn: 'uid=ada,ou=people,dc=idm,dc=test',
    });
  });

  it('an entry without entryUUID or entryCSN is skipped', () => {
    const { entryUUID: _u, ...noId } = ada;
    const { entryCSN: _c, ...noStamp } = ada;
    assert.deepEqual(toSourceEntry(raw(noId), openldap), {
      kind: 'skip',
      reason: 'missing-entry-id',
      dn: 'uid=ada,ou=people,dc=idm,dc=test',
    });
    assert.deepEqual(toSourceEntry(raw(noStamp), openldap), {
      kind: 'skip',
      reason: 'missing-change-stamp',
      dn: 'uid=ada,ou=people,dc=idm,dc=test',
    });
  });

  it('a user id longer than the contract allows is skipped (invalid-user-id)', () => {
    assert.equal(toSourceEntry(raw({ ...ada, uid: 'x'.repeat(257) }), openldap).kind, 'skip');
  });

  it('a mail value that is not an address: no email, a warning, the raw value still reported', () => {
    const outcome = toSourceEntry(raw({ ...ada, mail: 'not an address' }), openldap);
    assert.ok(outcome.kind === 'entry');
    assert.equal(outcome.entry.email, null);
    assert.deepEqual(outcome.warnings, ['invalid-email']);
    assert.equal(outcome.entry.reported['mail'], 'not an address');
  });

  it('OpenLDAP: the ppolicy administrative lock means disabled; a temporary lockout does not', () => {
    const locked = toSourceEntry(raw({ ...ada, pwdAccountLockedTime: '000001010000Z' }), openldap);
    const lockout = toSourceEntry(raw({ ...ada, pwdAccountLockedTime: '20261130100000Z' }), openldap);
    assert.ok(locked.kind === 'entry' && lockout.kind === 'entry');
    assert.equal(locked.entry.enabled, false);
    assert.equal(lockout.entry.enabled, true);
  });

  it('Active Directory: sAMAccountName, objectGUID, uSNChanged; userAccountControl bit 2 disables', () => {
    const user = { sAMAccountName: 'grace', objectGUID: 'guid-1', uSNChanged: '12345', userAccountControl: '514' };
    const outcome = toSourceEntry(raw(user, 'CN=Grace,CN=Users,DC=idm,DC=test'), ad);
    assert.ok(outcome.kind === 'entry');
    assert.deepEqual(
      [
        outcome.entry.userId,
        outcome.entry.entryId,
        outcome.entry.stamp,
        outcome.entry.enabled,
        outcome.entry.email,
        outcome.entry.modifiedAt,
      ],
      ['grace', 'guid-1', '12345', false, null, null],
    );
    const enabled = toSourceEntry(raw({ ...user, userAccountControl: '512' }), ad);
    assert.ok(enabled.kind === 'entry');
    assert.equal(enabled.entry.enabled, true);
  });
});
