import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BerWriter, Change, Attribute, Client, ConstraintViolationError, Control } from 'ldapts';
import { SLAPD_POLICY_VIOLATION, startSlapd, type SlapdHandle } from './slapd.harness.js';

/** RFC 3062 PasswdModifyRequestValue: userIdentity [0], newPasswd [2]. */
function passwordModifyValue(userDn: string, newPassword: string): Buffer {
  const writer = new BerWriter();
  writer.startSequence();
  writer.writeString(userDn, 0x80);
  writer.writeString(newPassword, 0x82);
  writer.endSequence();
  return writer.buffer;
}

function replacePassword(password: string): Change {
  return new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [password] }) });
}

async function bound<T>(url: string, dn: string, password: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url, timeout: 5_000, connectTimeout: 2_000 });
  try {
    await client.bind(dn, password);
    return await work(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

const isPolicyViolation = (err: unknown): boolean =>
  err instanceof ConstraintViolationError &&
  err.code === SLAPD_POLICY_VIOLATION.resultCode &&
  err.message.includes(SLAPD_POLICY_VIOLATION.message);

describe('slapd test directory', () => {
  let ldap: SlapdHandle;
  before(async () => {
    ldap = await startSlapd({ ppolicyMinLength: 8 });
  });
  after(() => ldap.dispose());

  test('admin and service account can bind; addUser creates a user who can bind', async () => {
    await bound(ldap.url, ldap.bindDn, ldap.bindPassword, async (c) => {
      const { searchEntries } = await c.search(ldap.baseDn, { scope: 'base' });
      assert.equal(searchEntries[0]?.dn, 'ou=people,dc=idm,dc=test');
    });
    const dn = await ldap.addUser('alice', { password: 'initial-pass-1', mail: 'alice@example.com' });
    assert.equal(dn, 'uid=alice,ou=people,dc=idm,dc=test');
    await bound(ldap.url, dn, 'initial-pass-1', () => Promise.resolve());
    await bound(ldap.url, ldap.serviceBindDn, ldap.serviceBindPassword, async (c) => {
      const { searchEntries } = await c.search(ldap.baseDn, { filter: '(uid=alice)', attributes: ['mail'] });
      assert.equal(searchEntries[0]?.mail, 'alice@example.com');
    });
  });

  test('the rootdn replaces a password with modify, bypassing the policy', async () => {
    const dn = await ldap.addUser('bob', { password: 'initial-pass-1' });
    await bound(ldap.url, ldap.bindDn, ldap.bindPassword, (c) => c.modify(dn, replacePassword('short')));
    await bound(ldap.url, dn, 'short', () => Promise.resolve());
  });

  test('the service account: a 6-character password is a constraint violation by modify and by Password Modify', async () => {
    const dn = await ldap.addUser('carol', { password: 'initial-pass-1' });
    await bound(ldap.url, ldap.serviceBindDn, ldap.serviceBindPassword, async (c) => {
      await assert.rejects(c.modify(dn, replacePassword('abc123')), isPolicyViolation);
      await assert.rejects(
        c.modify(dn, replacePassword('abc123'), new Control(SLAPD_POLICY_VIOLATION.ppolicyControlOid)),
        isPolicyViolation,
      );
      await assert.rejects(c.exop(SLAPD_POLICY_VIOLATION.passwordModifyOid, passwordModifyValue(dn, 'abc123')), isPolicyViolation);
    });
    await bound(ldap.url, dn, 'initial-pass-1', () => Promise.resolve());
  });

  test('the service account sets a compliant password by modify and by Password Modify; it is stored hashed', async () => {
    const dn = await ldap.addUser('dave', { password: 'initial-pass-1' });
    await bound(ldap.url, ldap.serviceBindDn, ldap.serviceBindPassword, (c) => c.modify(dn, replacePassword('long-enough-2')));
    await bound(ldap.url, dn, 'long-enough-2', () => Promise.resolve());
    await bound(ldap.url, ldap.serviceBindDn, ldap.serviceBindPassword, (c) =>
      c.exop(SLAPD_POLICY_VIOLATION.passwordModifyOid, passwordModifyValue(dn, 'long-enough-3')),
    );
    await bound(ldap.url, dn, 'long-enough-3', () => Promise.resolve());
    const stored = await bound(ldap.url, ldap.bindDn, ldap.bindPassword, async (c) => {
      const { searchEntries } = await c.search(dn, { scope: 'base', attributes: ['userPassword'] });
      return String(searchEntries[0]?.userPassword);
    });
    assert.match(stored, /^\{SSHA\}/);
  });

  test('stop makes the directory unreachable; start brings it back on the same port with its data', async () => {
    const dn = await ldap.addUser('erin', { password: 'initial-pass-1' });
    await ldap.stop();
    await assert.rejects(bound(ldap.url, dn, 'initial-pass-1', () => Promise.resolve()));
    await ldap.start();
    await bound(ldap.url, dn, 'initial-pass-1', () => Promise.resolve());
    await ldap.deleteUser('erin');
    await assert.rejects(bound(ldap.url, dn, 'initial-pass-1', () => Promise.resolve()));
  });
});
