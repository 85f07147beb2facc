import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Attribute, Change, Client, ConstraintViolationError, InsufficientAccessError } from 'ldapts';
import { SAMBA_AD_POLICY_VIOLATION, sambaAdUnavailable, startSambaAd, type SambaAdHandle } from './samba-ad.harness.js';

const resetTo = (password: string): Change =>
  new Change({
    operation: 'replace',
    modification: new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${password}"`, 'utf16le')] }),
  });

async function asService<T>(ad: SambaAdHandle, work: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ url: ad.ldapsUrl, timeout: 10_000, tlsOptions: { ca: [readFileSync(ad.caFile)], servername: ad.tlsServerName } });
  try {
    await c.bind(ad.serviceBindDn, ad.serviceBindPassword);
    return await work(c);
  } finally {
    await c.unbind().catch(() => undefined);
  }
}

describe('Samba AD domain controller harness', { skip: sambaAdUnavailable() }, () => {
  let ad: SambaAdHandle;
  before(async () => {
    ad = await startSambaAd();
  });
  after(() => ad.stop());

  test('serves LDAPS with its own CA under the certificate name, and the rootDSE says AD', async () => {
    assert.equal(ad.ldapsUrl, 'ldaps://127.0.0.1:636');
    assert.match(readFileSync(ad.caFile, 'utf8'), /BEGIN CERTIFICATE/);
    const c = new Client({ url: ad.ldapsUrl, tlsOptions: { ca: [readFileSync(ad.caFile)], servername: ad.tlsServerName } });
    try {
      const { searchEntries } = await c.search('', { scope: 'base', attributes: ['supportedCapabilities', 'defaultNamingContext'] });
      assert.equal(searchEntries[0]?.defaultNamingContext, ad.baseDn);
      // LDAP_CAP_ACTIVE_DIRECTORY_OID
      assert.ok(([] as unknown[]).concat(searchEntries[0]?.supportedCapabilities).includes('1.2.840.113556.1.4.800'));
    } finally {
      await c.unbind();
    }
  });

  test('a created user binds by UPN and by DN; disable, enable, move and delete work', async () => {
    const dn = await ad.createUser({ sAMAccountName: 'h.alice', password: 'Initial-Pass-1', mail: 'alice@example.com' });
    assert.equal(dn, `CN=h.alice,${ad.usersDn}`);
    assert.equal(await ad.canBind('h.alice', 'Initial-Pass-1'), true);
    assert.equal(await ad.canBind(dn, 'Initial-Pass-1'), true);
    assert.equal(await ad.canBind('h.alice', 'wrong'), false);
    assert.equal((await ad.readUser('h.alice', ['mail']))?.mail, 'alice@example.com');

    await ad.disableUser('h.alice');
    assert.equal(await ad.canBind('h.alice', 'Initial-Pass-1'), false);
    await ad.enableUser('h.alice');
    assert.equal(await ad.canBind('h.alice', 'Initial-Pass-1'), true);

    const ou = await ad.createOu('Elsewhere');
    const moved = await ad.moveUser('h.alice', ou);
    assert.equal(moved, `CN=h.alice,${ou}`);
    assert.equal(await ad.findUserDn('h.alice'), moved);
    assert.equal(await ad.canBind('h.alice', 'Initial-Pass-1'), true);

    await ad.deleteUser('h.alice');
    assert.equal(await ad.findUserDn('h.alice'), undefined);
  });

  test('the service account resets passwords under OU=People, with non-ASCII, quotes and backslashes', async () => {
    // Created without any password (bulk set-up): enabled, nobody can bind until the reset.
    const dn = await ad.createUser({ sAMAccountName: 'h.bob', password: null });
    assert.equal(await ad.canBind('h.bob', ''), false);
    const password = 'Grüße "quoted" \\back\\slash ñ-9';
    await asService(ad, (c) => c.modify(dn, resetTo(password)));
    assert.equal(await ad.canBind('h.bob', password), true);
  });

  test('the service account is not an admin: it cannot reset the Administrator or a user outside OU=People', async () => {
    await assert.rejects(
      asService(ad, (c) => c.modify(ad.adminDn, resetTo('Another-Pass-1'))),
      (err) => err instanceof InsufficientAccessError && err.code === 50,
    );
    const ou = await ad.createOu('Outside');
    const dn = await ad.createUser({ sAMAccountName: 'h.carol', parentDn: ou });
    await assert.rejects(
      asService(ad, (c) => c.modify(dn, resetTo('Another-Pass-1'))),
      (err) => err instanceof InsufficientAccessError,
    );
  });

  test('a reset that breaks the policy is constraintViolation 0000052D, for length and for complexity', async () => {
    const dn = await ad.createUser({ sAMAccountName: 'h.dave' });
    await ad.setPasswordPolicy({ minLength: 12, complexity: true });
    try {
      for (const bad of ['Sh0rt-pw', 'alllowercaseletters']) {
        await assert.rejects(
          asService(ad, (c) => c.modify(dn, resetTo(bad))),
          (err) => {
            assert.ok(err instanceof ConstraintViolationError, String(err));
            assert.equal(err.code, SAMBA_AD_POLICY_VIOLATION.resultCode);
            assert.match(err.message, new RegExp(SAMBA_AD_POLICY_VIOLATION.werror));
            assert.ok(!err.message.includes(bad));
            return true;
          },
        );
      }
      await asService(ad, (c) => c.modify(dn, resetTo('Long-enough-Pass-1')));
      assert.equal(await ad.canBind('h.dave', 'Long-enough-Pass-1'), true);
    } finally {
      await ad.setPasswordPolicy({ minLength: 7, complexity: true });
    }
  });

  test('an administrative reset is checked for length and complexity only: history and minimum age do not apply', async () => {
    const dn = await ad.createUser({ sAMAccountName: 'h.gina' });
    await ad.setPasswordPolicy({ historyLength: 24, minAgeDays: 1 });
    try {
      await asService(ad, (c) => c.modify(dn, resetTo('Repeated-Pass-1')));
      await asService(ad, (c) => c.modify(dn, resetTo('Repeated-Pass-1')));
      assert.equal(await ad.canBind('h.gina', 'Repeated-Pass-1'), true);
    } finally {
      await ad.setPasswordPolicy({ minAgeDays: 0 });
    }
  });

  test('halt takes the DC down (connections refused), resume brings it back with its data', async () => {
    await ad.createUser({ sAMAccountName: 'h.frank', password: 'Before-Halt-1' });
    await ad.halt();
    assert.equal(await ad.canBind('h.frank', 'Before-Halt-1'), false);
    await ad.resume();
    assert.equal(await ad.canBind('h.frank', 'Before-Halt-1'), true);
  });

  test('the service account may set pwdLastSet=0 (must change at next logon)', async () => {
    const dn = await ad.createUser({ sAMAccountName: 'h.erin' });
    await asService(ad, (c) =>
      c.modify(dn, [
        resetTo('Must-Change-Pass-1'),
        new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdLastSet', values: ['0'] }) }),
      ]),
    );
    assert.equal((await ad.readUser('h.erin', ['pwdLastSet']))?.pwdLastSet, '0');
  });
});
