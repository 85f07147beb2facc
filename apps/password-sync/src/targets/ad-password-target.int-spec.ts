import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sambaAdUnavailable, SAMBA_AD_POLICY_VIOLATION, startSambaAd, type SambaAdHandle } from '@idm/testing';
import { LdapPasswordTarget, type LdapPasswordTargetOptions, type TargetLogger } from './ldap-password-target.js';
import { PasswordTargetConfigError } from './password-target.js';
import { countSearches } from './search-counter.fixture.js';
import { ldapTlsOptions } from './target-from-url.js';

class RecordingLogger implements TargetLogger {
  readonly lines: string[] = [];
  log(message: string): void {
    this.lines.push(`log: ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
}

describe('LdapPasswordTarget, active-directory dialect, against a real Samba AD DC', { skip: sambaAdUnavailable() }, () => {
  let ad: SambaAdHandle;
  const targets: LdapPasswordTarget[] = [];
  /** A target as the service account (Reset Password on OU=People only), over LDAPS with the DC's CA. */
  const target = (overrides: Partial<LdapPasswordTargetOptions> = {}): LdapPasswordTarget => {
    const t = new LdapPasswordTarget({
      url: ad.ldapsUrl,
      bindDn: ad.serviceBindDn,
      bindPassword: ad.serviceBindPassword,
      baseDn: ad.usersDn,
      dialect: 'active-directory',
      tlsOptions: ldapTlsOptions({
        PASSWORD_TARGET: ad.ldapsUrl,
        PASSWORD_TARGET_TLS_CA_FILE: ad.caFile,
        PASSWORD_TARGET_TLS_SERVER_NAME: ad.tlsServerName,
        PASSWORD_TARGET_TIMEOUT_MS: 10_000,
      }),
      timeoutMs: 10_000,
      ...overrides,
    });
    targets.push(t);
    return t;
  };

  before(async () => {
    ad = await startSambaAd();
  });
  after(async () => {
    await Promise.all(targets.map((t) => t.close()));
    await ad?.stop();
  });

  it('resets a password with non-ASCII, quotes and backslashes; the user binds with it', async () => {
    await ad.createUser({ sAMAccountName: 't.anna', password: 'Initial-Pass-1' });
    const t = target();
    for (const password of ['Grüße "zitiert" \\pfad\\ñ-1', 'Ünïcödé-€-😀-Aa1', `Quote'"\\"-Bb2`]) {
      assert.deepEqual(await t.apply('t.anna', Buffer.from(password)), { status: 'applied' });
      assert.equal(await ad.canBind('t.anna', password), true, password);
    }
    assert.equal(await ad.canBind('t.anna', 'Initial-Pass-1'), false);
  });

  it('finds users by userPrincipalName when configured', async () => {
    await ad.createUser({ sAMAccountName: 't.upn' });
    assert.deepEqual(await target({ userAttribute: 'userPrincipalName' }).apply(`t.upn@${ad.domain}`, 'Upn-Found-Pass-1'), {
      status: 'applied',
    });
    assert.equal(await ad.canBind('t.upn', 'Upn-Found-Pass-1'), true);
  });

  it('works over ldap:// with StartTLS', async () => {
    await ad.createUser({ sAMAccountName: 't.starttls' });
    const t = target({ url: ad.ldapUrl, startTls: true });
    assert.deepEqual(await t.apply('t.starttls', 'Start-Tls-Pass-1'), { status: 'applied' });
    assert.equal(await ad.canBind('t.starttls', 'Start-Tls-Pass-1'), true);
  });

  it('auto reads the rootDSE, picks active-directory with sAMAccountName, and logs the choice', async () => {
    await ad.createUser({ sAMAccountName: 't.auto' });
    const logger = new RecordingLogger();
    const t = target({ dialect: 'auto', logger });
    assert.equal(await t.prepare(), 'active-directory');
    assert.deepEqual(await t.apply('t.auto', 'Auto-Dialect-Pass-1'), { status: 'applied' });
    assert.equal(await ad.canBind('t.auto', 'Auto-Dialect-Pass-1'), true);
    assert.deepEqual(logger.lines, [
      `log: PASSWORD_TARGET_DIALECT=auto: ${ad.ldapsUrl} speaks active-directory (from its rootDSE); users found by sAMAccountName`,
    ]);
  });

  it('auto on plain ldap:// finds AD and refuses before sending credentials', async () => {
    const t = target({ url: ad.ldapUrl, dialect: 'auto', tlsOptions: {} });
    await assert.rejects(
      t.prepare(),
      (err: unknown) =>
        err instanceof PasswordTargetConfigError && /is Active Directory: .*only over an encrypted connection/.test(err.message),
    );
    const problems: string[] = [];
    t.onConfigurationProblem((p) => problems.push(p));
    const result = await t.apply('t.anna', 'Never-Sent-Pass-1');
    assert.equal(result.status, 'target-unavailable');
    assert.equal(problems.length, 1);
  });

  it('a password against the domain policy is policy-violation with AD’s message, never the password; a compliant one then applies', async () => {
    await ad.createUser({ sAMAccountName: 't.policy', password: 'Initial-Pass-1' });
    const t = target();
    for (const bad of ['Sh0rt!', 'nocomplexityatall']) {
      const result = await t.apply('t.policy', Buffer.from(bad));
      assert.equal(result.status, 'policy-violation');
      const message = result.status === 'policy-violation' ? result.message : '';
      assert.ok(message.startsWith(SAMBA_AD_POLICY_VIOLATION.werror), message);
      assert.doesNotMatch(message, /Code: 0x/);
      assert.equal(message.includes(bad), false);
    }
    assert.equal(await ad.canBind('t.policy', 'Initial-Pass-1'), true, 'the old password is untouched');
    assert.deepEqual(await t.apply('t.policy', 'Compliant-Pass-1'), { status: 'applied' });
    assert.equal(await ad.canBind('t.policy', 'Compliant-Pass-1'), true);
  });

  it('no such user → user-not-found; two entries for one id → user-not-found "ambiguous", logged as an error', async () => {
    const logger = new RecordingLogger();
    const t = target({ userAttribute: 'mail', logger });
    const missing = await t.apply('nobody@example.com', 'Whatever-Pass-1');
    assert.equal(missing.status, 'user-not-found');
    await ad.createUser({ sAMAccountName: 't.twin1', mail: 'twin@example.com', password: 'Twin-Initial-1' });
    await ad.createUser({ sAMAccountName: 't.twin2', mail: 'twin@example.com', password: 'Twin-Initial-1' });
    const twin = await t.apply('twin@example.com', 'Twin-New-Pass-1');
    assert.equal(twin.status, 'user-not-found');
    assert.match(twin.status === 'user-not-found' ? twin.message : '', /^ambiguous: more than one entry with mail=twin@example.com/);
    assert.equal(logger.lines.filter((l) => l.startsWith('error: ') && l.includes('ambiguous')).length, 1);
    assert.equal(await ad.canBind('t.twin1', 'Twin-Initial-1'), true);
    assert.equal(await ad.canBind('t.twin2', 'Twin-Initial-1'), true);
  });

  it('a base DN that does not exist (32 noSuchObject) → user-not-found', async () => {
    const result = await target({ baseDn: `OU=Nowhere,${ad.baseDn}` }).apply('t.anna', 'Whatever-Pass-1');
    assert.equal(result.status, 'user-not-found');
  });

  it('MUST_CHANGE sets pwdLastSet=0 with the password', async () => {
    await ad.createUser({ sAMAccountName: 't.mustchange' });
    assert.deepEqual(await target({ mustChange: true }).apply('t.mustchange', 'Must-Change-Pass-1'), { status: 'applied' });
    assert.equal((await ad.readUser('t.mustchange', ['pwdLastSet']))?.pwdLastSet, '0');
    // AD refuses a simple bind while the password must be changed (data 773): proof the flag is on.
    assert.equal(await ad.canBind('t.mustchange', 'Must-Change-Pass-1'), false);
  });

  it('wrong service credentials (49) and missing rights (50) are target-unavailable configuration problems', async () => {
    const wrong = target({ bindPassword: 'Wrong-Bind-Pass-1' });
    const problems: string[] = [];
    wrong.onConfigurationProblem((p) => problems.push(p));
    // At start already: prepare() fails and reports the problem.
    await assert.rejects(wrong.prepare(), (err: Error) => err.name === 'InvalidCredentialsError');
    assert.equal(problems.length, 1);
    const refused = await wrong.apply('t.anna', 'Whatever-Pass-1');
    assert.equal(refused.status, 'target-unavailable');
    assert.match(
      refused.status === 'target-unavailable' ? refused.message : '',
      /49 invalidCredentials.*PASSWORD_TARGET_BIND_DN and PASSWORD_TARGET_BIND_PASSWORD/,
    );

    // A user outside OU=People: found (base = the whole domain) but the service account may not reset it.
    const outside = await ad.createOu('NotManaged');
    await ad.createUser({ sAMAccountName: 't.outside', parentDn: outside, password: 'Outside-Initial-1' });
    const narrow = target({ baseDn: ad.baseDn });
    narrow.onConfigurationProblem((p) => problems.push(p));
    const denied = await narrow.apply('t.outside', 'Whatever-Pass-1');
    assert.equal(denied.status, 'target-unavailable');
    assert.match(denied.status === 'target-unavailable' ? denied.message : '', /50 insufficientAccessRights.*Reset Password right/);
    assert.equal(await ad.canBind('t.outside', 'Outside-Initial-1'), true);
    assert.equal(problems.length, 3);
  });

  it('a certificate that does not carry the expected name, or an unknown CA, is a target-unavailable TLS problem', async () => {
    const wrongName = await target({
      tlsOptions: ldapTlsOptions({ PASSWORD_TARGET: ad.ldapsUrl, PASSWORD_TARGET_TLS_CA_FILE: ad.caFile, PASSWORD_TARGET_TIMEOUT_MS: 1 }),
    }).apply('t.anna', 'Whatever-Pass-1');
    assert.equal(wrongName.status, 'target-unavailable');
    assert.match(
      wrongName.status === 'target-unavailable' ? wrongName.message : '',
      /ERR_TLS_CERT_ALTNAME_INVALID.*PASSWORD_TARGET_TLS_SERVER_NAME/,
    );
    const unknownCa = await target({ tlsOptions: { servername: ad.tlsServerName } }).apply('t.anna', 'Whatever-Pass-1');
    assert.equal(unknownCa.status, 'target-unavailable');
    assert.match(unknownCa.status === 'target-unavailable' ? unknownCa.message : '', /TLS verification of the directory failed/);
  });

  it('runs attempts beyond the pool size over its pooled connections', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `t.pool${i}`);
    await ad.createUsers(names.map((sAMAccountName) => ({ sAMAccountName })));
    const pooled = target({ poolSize: 3 });
    const results = await Promise.all(names.map((n) => pooled.apply(n, `Pooled-${n}-Pass-1`)));
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['applied']));
    assert.equal((await pooled.apply('t.pool0', 'short')).status, 'policy-violation');
    assert.deepEqual(await pooled.apply('t.pool0', 'Pooled-again-Pass-1'), { status: 'applied' });
    for (const [i, n] of names.entries()) assert.equal(await ad.canBind(n, i === 0 ? 'Pooled-again-Pass-1' : `Pooled-${n}-Pass-1`), true);
  });

  it('concurrent attempts share one search by sAMAccountName (case-insensitive); ambiguous and missing ids keep their outcome', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `t.batch${i}`);
    await ad.createUsers(names.map((sAMAccountName) => ({ sAMAccountName })));
    await ad.createUser({ sAMAccountName: 't.btwin1', mail: 'btwin@example.com', password: 'Twin-Initial-1' });
    await ad.createUser({ sAMAccountName: 't.btwin2', mail: 'btwin@example.com', password: 'Twin-Initial-1' });
    const bySam = target({ poolSize: 8 });
    const logger = new RecordingLogger();
    const byMail = target({ userAttribute: 'mail', poolSize: 4, logger });
    // Open the pools' connections, so the attempts below start at the same moment.
    await Promise.all(names.map((n) => bySam.apply(n, `Warm-${n}-Pass-1`)));
    await Promise.all(['warm1@example.com', 'warm2@example.com'].map((m) => byMail.apply(m, 'Warm-Pass-1')));
    const aloneTwin = await byMail.apply('btwin@example.com', 'Twin-New-Pass-1');
    const aloneMissing = await bySam.apply('t.nobody', 'Whatever-Pass-1');
    const counter = countSearches(ad.usersDn);
    const searches = counter.filters;
    try {
      const ids = [...names.map((n, i) => (i === 0 ? n.toUpperCase() : n)), 't.nobody'];
      const results = await Promise.all(ids.map((n) => bySam.apply(n, `Batched-${n.toLowerCase()}-Pass-1`)));
      assert.deepEqual(results, [...names.map(() => ({ status: 'applied' })), aloneMissing]);
      assert.equal(searches.length, 2, `one batch, then t.nobody alone: ${searches.join(' ')}`);
      searches.length = 0;
      const twin = await Promise.all([
        byMail.apply('btwin@example.com', 'Twin-New-Pass-1'),
        byMail.apply('nomail@example.com', 'X-Pass-1'),
      ]);
      assert.deepEqual(twin[0], aloneTwin);
      assert.equal(twin[1]?.status, 'user-not-found');
      assert.equal(searches.length, 3, `one batch, then each id alone: ${searches.join(' ')}`);
    } finally {
      counter.restore();
    }
    assert.equal(logger.lines.filter((l) => l.includes('ambiguous')).length, 2, 'logged alone and in the batch alike');
    for (const n of names) assert.equal(await ad.canBind(n, `Batched-${n}-Pass-1`), true, n);
    assert.equal(await ad.canBind('t.btwin1', 'Twin-Initial-1'), true);
  });
});
