import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, SLAPD_POLICY_VIOLATION, type SlapdHandle } from '@idm/testing';
import { LdapPasswordTarget, type LdapPasswordTargetOptions } from './ldap-password-target.js';

/** Proves the password was set: a bind as the user with it succeeds. */

describe('LdapPasswordTarget against a real slapd with ppolicy (pwdMinLength 8)', () => {
  let slapd: SlapdHandle;
  let target: LdapPasswordTarget;
  /** A target on the spec's slapd as its service account; `options` change or add settings. */
  const targetWith = (options: Partial<LdapPasswordTargetOptions> = {}): LdapPasswordTarget =>
    new LdapPasswordTarget({
      url: slapd.url,
      bindDn: slapd.serviceBindDn,
      bindPassword: slapd.serviceBindPassword,
      baseDn: slapd.baseDn,
      timeoutMs: 5_000,
      ...options,
    });

  before(async () => {
    slapd = await startSlapd({ ppolicyMinLength: 8 });
    target = targetWith();
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

  describe('with PASSWORD_TARGET_USER_DN_TEMPLATE (no search)', () => {
    let templated: LdapPasswordTarget;
    before(() => {
      templated = targetWith({ userDnTemplate: `uid={userId},${slapd.baseDn}` });
    });
    after(() => templated.close());

    it('applies a password to the entry the template names', async () => {
      const dn = await slapd.addUser('templated');
      assert.deepEqual(await templated.apply('templated', Buffer.from('Templated-Passw0rd')), { status: 'applied' });
      assert.equal(await slapd.canBind(dn, 'Templated-Passw0rd'), true);
    });

    it('applies to a user id that needs DN escaping', async () => {
      const dn = await slapd.addUser('o,brien+x');
      assert.deepEqual(await templated.apply('o,brien+x', 'Escaped-Passw0rd'), { status: 'applied' });
      assert.equal(await slapd.canBind(dn, 'Escaped-Passw0rd'), true);
    });

    it('reports user-not-found naming the DN when the account does not exist yet', async () => {
      const result = await templated.apply('not-yet', 'Compliant-Passw0rd');
      assert.equal(result.status, 'user-not-found');
      assert.match(result.status === 'user-not-found' ? result.message : '', /no entry uid=not-yet,ou=people/);
    });

    it('cannot be steered to another entry by the user id', async () => {
      const victim = await slapd.addUser('victim2', { password: 'Victim-Passw0rd' });
      const result = await templated.apply('x,uid=victim2', 'Hijack-Passw0rd');
      assert.equal(result.status, 'user-not-found');
      assert.equal(await slapd.canBind(victim, 'Victim-Passw0rd'), true, "the other entry's password is untouched");
    });

    it('reports a policy violation the same way as with a search', async () => {
      await slapd.addUser('shorty2', { password: 'Initial-Passw0rd' });
      const result = await templated.apply('shorty2', 'Sh0rt!');
      assert.equal(result.status, 'policy-violation');
    });
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
    const wrong = targetWith({ bindPassword: 'wrong' });
    const result = await wrong.apply('markus', 'Compliant-Passw0rd');
    assert.equal(result.status, 'target-error');
  });

  it('queues attempts beyond the pool size and applies them all over its pooled connections', async () => {
    const pooled = targetWith({ poolSize: 2 });
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
