import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, SLAPD_POLICY_VIOLATION, type SlapdHandle } from '@idm/testing';
import { LdapPasswordTarget } from './ldap-password-target.js';

/** Proves the password was set: a bind as the user with it succeeds. */

describe('LdapPasswordTarget against a real slapd with ppolicy (pwdMinLength 8)', () => {
  let slapd: SlapdHandle;
  let target: LdapPasswordTarget;

  before(async () => {
    slapd = await startSlapd({ ppolicyMinLength: 8 });
    target = new LdapPasswordTarget({
      url: slapd.url,
      bindDn: slapd.serviceBindDn,
      bindPassword: slapd.serviceBindPassword,
      baseDn: slapd.baseDn,
      timeoutMs: 5_000,
    });
  });
  after(async () => {
    await target.close();
    await slapd.dispose();
  });

  it('applies a compliant password, as a Buffer, through the service account', async () => {
    const dn = await slapd.addUser('markus');
    const result = await target.apply('markus', Buffer.from('Compliant-Passw0rd'));
    assert.deepEqual(result, { status: 'applied' });
    assert.equal(await slapd.canBind(dn, 'Compliant-Passw0rd'), true);
  });

  it('applies a password given as a string', async () => {
    const dn = await slapd.addUser('anna');
    assert.deepEqual(await target.apply('anna', 'Another-Passw0rd'), { status: 'applied' });
    assert.equal(await slapd.canBind(dn, 'Another-Passw0rd'), true);
  });

  it('reports user-not-found for a user with no entry', async () => {
    const result = await target.apply('nobody', 'Compliant-Passw0rd');
    assert.equal(result.status, 'user-not-found');
    assert.match(result.status === 'user-not-found' ? result.message : '', /uid=nobody/);
  });

  it('does not let a user id inject filter syntax', async () => {
    await slapd.addUser('victim');
    const result = await target.apply('*', 'Compliant-Passw0rd');
    assert.equal(result.status, 'user-not-found');
  });

  it("reports a 6-character password as policy-violation with the server's reason, without the password", async () => {
    const dn = await slapd.addUser('shorty', { password: 'Initial-Passw0rd' });
    const result = await target.apply('shorty', Buffer.from('Sh0rt!'));
    assert.equal(result.status, 'policy-violation');
    const message = result.status === 'policy-violation' ? result.message : '';
    assert.equal(message, SLAPD_POLICY_VIOLATION.message);
    assert.equal(message.includes('Sh0rt!'), false);
    assert.equal(await slapd.canBind(dn, 'Initial-Passw0rd'), true, 'the old password is untouched');
  });

  it('reports a wrong service bind as target-error, not as the user’s fault', async () => {
    const wrong = new LdapPasswordTarget({
      url: slapd.url,
      bindDn: slapd.serviceBindDn,
      bindPassword: 'wrong',
      baseDn: slapd.baseDn,
      timeoutMs: 5_000,
    });
    const result = await wrong.apply('markus', 'Compliant-Passw0rd');
    assert.equal(result.status, 'target-error');
  });

  it('queues attempts beyond the pool size and applies them all over its pooled connections', async () => {
    const pooled = new LdapPasswordTarget({
      url: slapd.url,
      bindDn: slapd.serviceBindDn,
      bindPassword: slapd.serviceBindPassword,
      baseDn: slapd.baseDn,
      timeoutMs: 5_000,
      poolSize: 2,
    });
    try {
      const uids = Array.from({ length: 12 }, (_, i) => `pooled-${i}`);
      const dns = await Promise.all(uids.map((u) => slapd.addUser(u)));
      const results = await Promise.all(uids.map((u) => pooled.apply(u, `Pooled-${u}-pw`)));
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['applied']));
      // A user-level refusal leaves the connection usable for the next attempt.
      assert.equal((await pooled.apply('pooled-0', 'Sh0rt!')).status, 'policy-violation');
      assert.equal((await pooled.apply('nobody-here', 'Pooled-x-pw')).status, 'user-not-found');
      assert.deepEqual(await pooled.apply('pooled-0', 'Pooled-again-pw'), { status: 'applied' });
      for (const [i, dn] of dns.entries())
        assert.equal(await slapd.canBind(dn, i === 0 ? 'Pooled-again-pw' : `Pooled-${uids[i]}-pw`), true);
    } finally {
      await pooled.close();
    }
  });

  it('describes itself by scheme and host only', () => {
    assert.equal(target.describe(), slapd.url);
  });

  it('reports target-unavailable when slapd is stopped, and applies again once it is back', async () => {
    const dn = await slapd.addUser('outage');
    await slapd.stop();
    try {
      const result = await target.apply('outage', 'During-0utage-pw');
      assert.equal(result.status, 'target-unavailable');
      assert.equal(JSON.stringify(result).includes('During-0utage-pw'), false);
    } finally {
      await slapd.start();
    }
    assert.deepEqual(await target.apply('outage', 'After-0utage-pw'), { status: 'applied' });
    assert.equal(await slapd.canBind(dn, 'After-0utage-pw'), true);
  });
});
