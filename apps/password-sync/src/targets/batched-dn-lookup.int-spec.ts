import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSlapd, type SlapdHandle } from '@idm/testing';
import type { ApplyResult } from './password-target.js';
import { LdapPasswordTarget } from './ldap-password-target.js';
import { countSearches, type SearchCounter } from './search-counter.fixture.js';

describe('LdapPasswordTarget: concurrent attempts share a DN search (real slapd)', () => {
  let slapd: SlapdHandle;
  let target: LdapPasswordTarget;
  /** The user searches (under the people base) every ldapts client sent. */
  let counter: SearchCounter | undefined;
  /** Emptied after each test (and where a test says so). */
  let searches: string[] = [];

  before(async () => {
    slapd = await startSlapd({ ppolicyMinLength: 8 });
    counter = countSearches(slapd.baseDn);
    searches = counter.filters;
    target = new LdapPasswordTarget({
      url: slapd.url,
      bindDn: slapd.serviceBindDn,
      bindPassword: slapd.serviceBindPassword,
      baseDn: slapd.baseDn,
      timeoutMs: 5_000,
      poolSize: 16,
    });
    // Open the pool's connections, so the attempts below start at the same moment.
    const warm = Array.from({ length: 16 }, (_, i) => `warm-${i}`);
    await Promise.all(warm.map((u) => slapd.addUser(u)));
    await Promise.all(warm.map((u) => target.apply(u, 'Warm-Up-Passw0rd')));
  });
  afterEach(() => {
    searches.length = 0;
  });
  after(async () => {
    counter?.restore();
    await target.close();
    await slapd.dispose();
  });

  /** Applies every `[userId, password]` at once. */
  const applyAll = (pairs: ReadonlyArray<readonly [string, string]>): Promise<ApplyResult[]> =>
    Promise.all(pairs.map(([u, p]) => target.apply(u, p)));

  it('one search serves many attempts; every password lands on its own entry', async () => {
    const uids = Array.from({ length: 12 }, (_, i) => `many-${i}`);
    const dns = await Promise.all(uids.map((u) => slapd.addUser(u)));
    searches.length = 0;
    const results = await applyAll(uids.map((u) => [u, `Many-${u}-Passw0rd`]));
    assert.deepEqual(
      results,
      uids.map(() => ({ status: 'applied' })),
    );
    assert.equal(searches.length, 1, searches.join('\n'));
    assert.match(searches[0]!, /^\(\|\(uid=many-0\)/);
    for (const [i, dn] of dns.entries()) assert.equal(await slapd.canBind(dn, `Many-${uids[i]}-Passw0rd`), true);
  });

  it('an ambiguous id and a missing id inside a batch get exactly the outcome of a search alone', async () => {
    const a = await slapd.addUser('amb-a', { password: 'Initial-Passw0rd' });
    const b = await slapd.addUser('amb-b', { password: 'Initial-Passw0rd' });
    await slapd.modifyUser('amb-a', { uid: ['amb-a', 'amb-dup'] });
    await slapd.modifyUser('amb-b', { uid: ['amb-b', 'amb-dup'] });
    const ok = await slapd.addUser('amb-ok');
    const alone = [await target.apply('amb-dup', 'Dup-Passw0rd-1'), await target.apply('amb-missing', 'Missing-Passw0rd-1')];
    assert.equal(alone[0]!.status, 'target-error');
    assert.equal(alone[1]!.status, 'user-not-found');
    searches.length = 0;
    const batched = await applyAll([
      ['amb-ok', 'Amb-Ok-Passw0rd'],
      ['amb-dup', 'Dup-Passw0rd-1'],
      ['amb-missing', 'Missing-Passw0rd-1'],
    ]);
    assert.deepEqual(batched, [{ status: 'applied' }, ...alone]);
    assert.equal(searches.length, 3, 'the batch, then a search alone for each id it could not attribute');
    assert.equal(await slapd.canBind(ok, 'Amb-Ok-Passw0rd'), true);
    assert.equal(await slapd.canBind(a, 'Initial-Passw0rd'), true, 'neither ambiguous entry was written');
    assert.equal(await slapd.canBind(b, 'Initial-Passw0rd'), true, 'neither ambiguous entry was written');
  });

  /** Applies `id` beside another user's attempt; proves one search served both and `dn` got the password. */
  async function appliedFromOneSearch(id: string, dn: string): Promise<void> {
    const other = await slapd.addUser(`${id.toLowerCase()}-other`);
    searches.length = 0;
    const results = await applyAll([
      [id, `${id}-Passw0rd`],
      [`${id.toLowerCase()}-other`, 'Other-Passw0rd'],
    ]);
    assert.deepEqual(results, [{ status: 'applied' }, { status: 'applied' }]);
    assert.equal(searches.length, 1);
    assert.equal(await slapd.canBind(dn, `${id}-Passw0rd`), true);
    assert.equal(await slapd.canBind(other, 'Other-Passw0rd'), true);
  }

  it('attributes an id that differs from the entry only in case, from the batch', async () => {
    await appliedFromOneSearch('CaseUser', await slapd.addUser('caseuser'));
  });

  it('attributes a second value of a multi-valued attribute to its entry', async () => {
    const dn = await slapd.addUser('multi');
    await slapd.modifyUser('multi', { uid: ['multi', 'multi-alias'] });
    await appliedFromOneSearch('multi-alias', dn);
  });

  it('ids the server might call equal (j.doe, jdoe) each fall back to a search alone and reach their own entry', async () => {
    const dotted = await slapd.addUser('j.doe');
    const plain = await slapd.addUser('jdoe');
    searches.length = 0;
    const results = await applyAll([
      ['j.doe', 'Dotted-Passw0rd'],
      ['jdoe', 'Plain-Passw0rd-1'],
    ]);
    assert.deepEqual(results, [{ status: 'applied' }, { status: 'applied' }]);
    assert.equal(searches.length, 3);
    assert.equal(await slapd.canBind(dotted, 'Dotted-Passw0rd'), true);
    assert.equal(await slapd.canBind(plain, 'Plain-Passw0rd-1'), true);
  });

  it('when the directory hangs, every attempt of a timed-out batch fails as target-unavailable: none searches alone to wait out a second timeout', async () => {
    const hanging = new LdapPasswordTarget({
      url: slapd.url,
      bindDn: slapd.serviceBindDn,
      bindPassword: slapd.serviceBindPassword,
      baseDn: slapd.baseDn,
      timeoutMs: 1_000,
      poolSize: 4,
    });
    const uids = ['hang-0', 'hang-1', 'hang-2', 'hang-3'];
    const dns = await Promise.all(uids.map((u) => slapd.addUser(u)));
    const applyEach = (suffix: string) => Promise.all(uids.map((u) => hanging.apply(u, `Hang-${u}-${suffix}`)));
    try {
      await applyEach('Warm-Passw0rd'); // four pooled connections, bound while the directory answers
      searches.length = 0;
      await slapd.pause();
      let results: ApplyResult[];
      try {
        results = await applyEach('Passw0rd');
      } finally {
        slapd.resume();
      }
      for (const result of results) {
        assert.equal(result.status, 'target-unavailable');
        assert.match('message' in result ? result.message : '', /SearchRequest: Operation timed out/);
      }
      assert.equal(searches.length, 1, `the batch only, no search alone after it: ${searches.join(', ')}`);

      assert.deepEqual(
        await applyEach('Again-Passw0rd'),
        uids.map(() => ({ status: 'applied' })),
        'answering again: new connections',
      );
      for (const [i, dn] of dns.entries()) assert.equal(await slapd.canBind(dn, `Hang-${uids[i]}-Again-Passw0rd`), true);
    } finally {
      await hanging.close();
    }
  });

  it('a filter-syntax id inside a batch matches nothing', async () => {
    await slapd.addUser('inj-victim', { password: 'Victim-Passw0rd' });
    const results = await applyAll([
      ['*', 'Hijack-Passw0rd-1'],
      ['inj-victim)(uid=*', 'Hijack-Passw0rd-2'],
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['user-not-found', 'user-not-found'],
    );
    assert.equal(await slapd.canBind(slapd.userDn('inj-victim'), 'Victim-Passw0rd'), true);
  });
});
