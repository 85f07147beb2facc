import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { InvalidSealKeyError, PasswordSealer, SecretKeyMismatchError, SecretTamperedError, type SealedSecret } from './sealed-secret.js';

const CANARY = 'Canary-Sealed-Secret-9f3b';

describe('PasswordSealer', () => {
  const sealer = new PasswordSealer(randomBytes(32));

  it('opens what it sealed, for the same user', () => {
    const sealed = sealer.seal(CANARY, 'u1001');
    const opened = sealer.open(sealed, 'u1001');
    assert.equal(opened.toString('utf8'), CANARY);
  });

  it('never stores the plaintext in any part of the sealed secret', () => {
    const sealed = sealer.seal(CANARY, 'u1001');
    for (const part of [sealed.ciphertext, sealed.nonce, sealed.tag, Buffer.from(sealed.keyId)]) {
      assert.equal(part.includes(Buffer.from(CANARY)), false);
    }
  });

  it('uses a fresh 12-byte nonce for every seal', () => {
    const a = sealer.seal(CANARY, 'u1001');
    const b = sealer.seal(CANARY, 'u1001');
    assert.equal(a.nonce.length, 12);
    assert.notDeepEqual(a.nonce, b.nonce);
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
  });

  it('never repeats or rewrites a nonce over many seals, across refills of the nonce source', () => {
    const sealed: SealedSecret[] = [];
    const asHanded: string[] = [];
    for (let i = 0; i < 1000; i++) {
      sealed.push(sealer.seal(CANARY, `u${i}`));
      asHanded.push(sealed[i]!.nonce.toString('hex'));
    }
    assert.equal(new Set(asHanded).size, 1000);
    sealed.forEach((s, i) => {
      assert.equal(s.nonce.length, 12);
      assert.equal(s.nonce.toString('hex'), asHanded[i], `nonce ${i} changed after it was handed out`);
      assert.equal(sealer.open(s, `u${i}`).toString('utf8'), CANARY);
    });
  });

  it('refuses to open a ciphertext moved to another user', () => {
    const sealed = sealer.seal(CANARY, 'u1001');
    assert.throws(() => sealer.open(sealed, 'u1002'), SecretTamperedError);
  });

  it('refuses an altered ciphertext or tag', () => {
    const sealed = sealer.seal(CANARY, 'u1001');
    const ciphertext = Buffer.from(sealed.ciphertext);
    ciphertext[0] = ciphertext[0]! ^ 1;
    assert.throws(() => sealer.open({ ...sealed, ciphertext }, 'u1001'), SecretTamperedError);
    const tag = Buffer.from(sealed.tag);
    tag[0] = tag[0]! ^ 1;
    assert.throws(() => sealer.open({ ...sealed, tag }, 'u1001'), SecretTamperedError);
  });

  it('reports a rotated key as a key mismatch, naming only key ids', () => {
    const sealed = sealer.seal(CANARY, 'u1001');
    const other = new PasswordSealer(randomBytes(32));
    assert.notEqual(other.keyId, sealer.keyId);
    assert.throws(
      () => other.open(sealed, 'u1001'),
      (err: unknown) => err instanceof SecretKeyMismatchError && err.code === 'IDM_PASSWORD_KEY_MISMATCH' && !err.message.includes(CANARY),
    );
  });

  it('derives the same key id from the same key and keeps its own copy of the key', () => {
    const key = randomBytes(32);
    const a = new PasswordSealer(key);
    const b = new PasswordSealer(key);
    assert.equal(a.keyId, b.keyId);
    assert.match(a.keyId, /^[0-9a-f]{16}$/);
    const sealed = a.seal(CANARY, 'u1');
    key.fill(0);
    assert.equal(a.open(sealed, 'u1').toString('utf8'), CANARY);
  });

  it('zero-fills nothing the caller passed as a Buffer, but accepts one', () => {
    const plaintext = Buffer.from(CANARY);
    const sealed = sealer.seal(plaintext, 'u1');
    assert.equal(plaintext.toString('utf8'), CANARY);
    assert.equal(sealer.open(sealed, 'u1').toString('utf8'), CANARY);
  });

  it('rejects a key that is not 32 bytes', () => {
    assert.throws(() => new PasswordSealer(randomBytes(16)), InvalidSealKeyError);
    assert.throws(() => new PasswordSealer(randomBytes(32), [randomBytes(31)]), InvalidSealKeyError);
  });

  describe('key rotation', () => {
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    const underA = new PasswordSealer(keyA);
    const rotated = new PasswordSealer(keyB, [keyA]);

    it('seals with the current key only, and opens secrets of the current and previous keys', () => {
      const old = underA.seal(CANARY, 'u1');
      const fresh = rotated.seal(CANARY, 'u1');
      assert.equal(fresh.keyId, rotated.keyId);
      assert.notEqual(rotated.keyId, underA.keyId);
      assert.deepEqual(rotated.previousKeyIds, [underA.keyId]);
      assert.equal(rotated.open(old, 'u1').toString('utf8'), CANARY);
      assert.equal(rotated.open(fresh, 'u1').toString('utf8'), CANARY);
      assert.equal(rotated.canOpen(underA.keyId), true);
      assert.equal(underA.canOpen(rotated.keyId), false);
    });

    it('re-seals a secret of a previous key under the current one; a current one is left alone', () => {
      const old = underA.seal(CANARY, 'u1');
      const moved = rotated.reseal(old, 'u1');
      assert.ok(moved);
      assert.equal(moved.keyId, rotated.keyId);
      assert.notDeepEqual(moved.nonce, old.nonce);
      // Once re-sealed, the previous key is no longer needed: a sealer without it opens the secret.
      assert.equal(new PasswordSealer(keyB).open(moved, 'u1').toString('utf8'), CANARY);
      assert.equal(rotated.reseal(moved, 'u1'), undefined);
      // The user binding survives a re-seal.
      assert.throws(() => rotated.open(moved, 'u2'), SecretTamperedError);
    });

    it('a key it does not hold is still a mismatch naming only key ids', () => {
      const stranger = new PasswordSealer(randomBytes(32)).seal(CANARY, 'u1');
      assert.throws(
        () => rotated.reseal(stranger, 'u1'),
        (err: unknown) =>
          err instanceof SecretKeyMismatchError &&
          err.message.includes(rotated.keyId) &&
          err.message.includes(underA.keyId) &&
          !err.message.includes(CANARY),
      );
    });
  });
});
