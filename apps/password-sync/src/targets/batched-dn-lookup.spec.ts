import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client, Entry, SearchOptions } from 'ldapts';
import { attributeEntries, BatchedDnLookup } from './batched-dn-lookup.js';

const BASE = 'ou=people,dc=idm,dc=test';
const dn = (uid: string): string => `uid=${uid},${BASE}`;

/** A client whose searches are recorded and answered by `answer`; `connected` is what `isConnected` says. */
function fakeClient(answer: (options: SearchOptions) => Promise<Entry[]>, state = { connected: true }) {
  const searches: SearchOptions[] = [];
  const client = {
    get isConnected() {
      return state.connected;
    },
    search: async (_base: string, options: SearchOptions) => {
      searches.push(options);
      return { searchEntries: await answer(options), searchReferences: [] };
    },
  } as unknown as Client;
  return { client, searches };
}

describe('attributeEntries', () => {
  it('gives an id the DN of the one entry holding it, ignoring case, a multi-valued attribute included', () => {
    const entries: Entry[] = [
      { dn: dn('alice'), uid: 'Alice' },
      { dn: dn('bob'), uid: ['bob', 'robert'] },
    ];
    const got = attributeEntries(entries, 'uid', ['alice', 'robert', 'missing']);
    assert.deepEqual(
      [...got],
      [
        ['alice', dn('alice')],
        ['robert', dn('bob')],
      ],
    );
  });

  it('finds the attribute whatever case the server spells its name in', () => {
    assert.deepEqual([...attributeEntries([{ dn: dn('x'), sAMAccountName: 'x.y' }], 'samaccountname', ['X.Y'])], [['X.Y', dn('x')]]);
  });

  it('attributes nothing to an id two entries answer to', () => {
    const entries: Entry[] = [
      { dn: dn('a'), uid: ['a', 'dup'] },
      { dn: dn('b'), uid: ['b', 'DUP'] },
    ];
    assert.deepEqual([...attributeEntries(entries, 'uid', ['dup', 'a'])], [['a', dn('a')]]);
  });

  it('attributes nothing where a value differs only in punctuation: the server might call them equal', () => {
    const entries: Entry[] = [
      { dn: dn('j.doe'), uid: 'j.doe' },
      { dn: dn('jdoe'), uid: 'jdoe' },
    ];
    assert.equal(attributeEntries(entries, 'uid', ['j.doe', 'jdoe']).size, 0);
  });

  it('attributes nothing at all when a value is not printable ASCII (Unicode folding might match it to any id)', () => {
    const entries: Entry[] = [
      { dn: dn('a'), uid: 'a' },
      { dn: dn('s'), uid: 'ſ' },
    ];
    assert.equal(attributeEntries(entries, 'uid', ['a', 's']).size, 0);
  });

  it('attributes nothing at all when an entry comes back without the attribute', () => {
    const entries: Entry[] = [{ dn: dn('a'), uid: 'a' }, { dn: dn('b') }];
    assert.equal(attributeEntries(entries, 'uid', ['a', 'b']).size, 0);
  });

  it('attributes nothing to a value that only shares the coarse key, not the id', () => {
    assert.equal(attributeEntries([{ dn: dn('ab'), uid: 'a-b' }], 'uid', ['ab']).size, 0);
  });
});

describe('BatchedDnLookup', () => {
  it('serves the lookups of one event-loop turn with one search of filter objects', async () => {
    const { client, searches } = fakeClient(async () => [
      { dn: dn('a'), uid: 'a' },
      { dn: dn('b'), uid: 'b' },
    ]);
    const lookups = new BatchedDnLookup(BASE, 'uid');
    const got = await Promise.all([lookups.lookup(client, 'a'), lookups.lookup(client, 'b'), lookups.lookup(client, '*)(uid=*')]);
    assert.deepEqual(got, [dn('a'), dn('b'), undefined]);
    assert.equal(searches.length, 1);
    assert.equal(String(searches[0]!.filter), '(|(uid=a)(uid=b)(uid=\\2a\\29\\28uid=\\2a))');
    assert.equal(searches[0]!.sizeLimit, 6);
  });

  it('does not search for a lone lookup, nor for one id asked twice', async () => {
    const { client, searches } = fakeClient(async () => []);
    const lookups = new BatchedDnLookup(BASE, 'uid');
    assert.equal(await lookups.lookup(client, 'a'), undefined);
    assert.deepEqual(await Promise.all([lookups.lookup(client, 'a'), lookups.lookup(client, 'a')]), [undefined, undefined]);
    assert.equal(searches.length, 0);
  });

  it('never batches an attribute whose matching rule it does not know, nor a non-ASCII id', async () => {
    const { client, searches } = fakeClient(async () => []);
    const custom = new BatchedDnLookup(BASE, 'employeeID');
    assert.deepEqual(await Promise.all([custom.lookup(client, 'a'), custom.lookup(client, 'b')]), [undefined, undefined]);
    const uid = new BatchedDnLookup(BASE, 'uid');
    assert.deepEqual(await Promise.all([uid.lookup(client, 'ä'), uid.lookup(client, 'ö')]), [undefined, undefined]);
    assert.equal(searches.length, 0);
  });

  it('splits more ids than the bound into several searches', async () => {
    const { client, searches } = fakeClient(async () => []);
    const lookups = new BatchedDnLookup(BASE, 'uid', 3);
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => lookups.lookup(client, id)));
    assert.deepEqual(
      searches.map((s) => String(s.filter)),
      ['(|(uid=a)(uid=b)(uid=c))', '(|(uid=d)(uid=e)(uid=f))'],
      'the seventh id, alone in its batch, searches on its own',
    );
  });

  it('attributes nothing when the result reaches the size limit: it may be truncated', async () => {
    const { client } = fakeClient(async () => [
      { dn: dn('a'), uid: 'a' },
      { dn: dn('b'), uid: 'b' },
      { dn: dn('c'), uid: 'c' },
      { dn: dn('d'), uid: 'd' },
    ]);
    const lookups = new BatchedDnLookup(BASE, 'uid');
    assert.deepEqual(await Promise.all([lookups.lookup(client, 'a'), lookups.lookup(client, 'b')]), [undefined, undefined]);
  });

  it('on an error every waiter searches alone, unless the batch broke its own connection', async () => {
    const state = { connected: true };
    const failing = fakeClient(async () => {
      throw new Error('busy');
    }, state);
    const other = fakeClient(async () => []);
    const lookups = new BatchedDnLookup(BASE, 'uid');
    assert.deepEqual(await Promise.all([lookups.lookup(failing.client, 'a'), lookups.lookup(other.client, 'b')]), [undefined, undefined]);
    state.connected = false;
    const runner = lookups.lookup(failing.client, 'a');
    const waiter = lookups.lookup(other.client, 'b');
    await assert.rejects(runner, /busy/);
    assert.equal(await waiter, undefined);
  });

  it('on a timeout every waiter gets the error at once: the directory does not answer, a search alone would wait out another timeout', async () => {
    const state = { connected: true };
    const hung = fakeClient(async () => {
      state.connected = false; // ldapts destroys the socket of a timed-out request
      throw new Error('SearchRequest: Operation timed out');
    }, state);
    const other = fakeClient(async () => []);
    const lookups = new BatchedDnLookup(BASE, 'uid');
    const waiting = [lookups.lookup(hung.client, 'a'), lookups.lookup(other.client, 'b'), lookups.lookup(other.client, 'c')];
    for (const w of waiting) await assert.rejects(w, /SearchRequest: Operation timed out/);
    assert.equal(other.searches.length, 0);
  });
});
