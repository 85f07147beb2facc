import { createCipheriv, createDecipheriv, createHash, randomFillSync } from 'node:crypto';

/** A password sealed with AES-256-GCM. Every part is needed to open it; none reveals the plaintext. */
export interface SealedSecret {
  readonly ciphertext: Buffer;
  /** 12 random bytes, fresh for every seal: GCM must never reuse a nonce under one key. */
  readonly nonce: Buffer;
  /** The 16-byte GCM authentication tag. */
  readonly tag: Buffer;
  /** Short hash of the key that sealed it, so a rotated key is reported as such rather than as tampering. */
  readonly keyId: string;
}

/** The key that sealed a secret is not the key this process holds (it was rotated or replaced). */
export class SecretKeyMismatchError extends Error {
  override readonly name = 'SecretKeyMismatchError';
  readonly code = 'IDM_PASSWORD_KEY_MISMATCH';
}

/** The sealed secret failed authentication: altered, truncated, or opened for another user. */
export class SecretTamperedError extends Error {
  override readonly name = 'SecretTamperedError';
  readonly code = 'IDM_PASSWORD_SECRET_INVALID';
}

/** The cache key is not 32 bytes. */
export class InvalidSealKeyError extends Error {
  override readonly name = 'InvalidSealKeyError';
  readonly code = 'IDM_PASSWORD_CACHE_KEY_INVALID';
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Nonces cut from one CSPRNG draw: a `randomBytes(12)` per seal was about 2.5 µs of its 8 µs. */
const NONCES_PER_DRAW = 256;

/**
 * Hands out 12-byte nonces cut from blocks of CSPRNG output, one `randomFillSync` per
 * {@link NONCES_PER_DRAW} seals. A block is fresh memory, filled once and never written again, and
 * its slices do not overlap: no nonce repeats or changes after it is handed out (it may still be
 * waiting to be stored). Nonces are public, so holding the next ones in memory reveals nothing.
 */
class NonceSource {
  private block = Buffer.alloc(0);
  private offset = 0;

  next(): Buffer {
    if (this.offset === this.block.length) {
      this.block = randomFillSync(Buffer.allocUnsafeSlow(NONCE_BYTES * NONCES_PER_DRAW));
      this.offset = 0;
    }
    const nonce = this.block.subarray(this.offset, this.offset + NONCE_BYTES);
    this.offset += NONCE_BYTES;
    return nonce;
  }
}

/** Derives the public identifier of a key; domain-separated so it is never a hash of the bare key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('idm-password-cache-key-id\u0000').update(key).digest('hex').slice(0, 16);
}

/**
 * Seals and opens cached passwords. The user id is bound in as additional authenticated data,
 * so a ciphertext copied onto another user's row does not open.
 *
 * Holds the current key and, during a key rotation, previous keys: seals always use the current
 * key; a secret is opened with whichever key its `keyId` names, and {@link reseal} moves a secret
 * sealed with a previous key onto the current one.
 */
export class PasswordSealer {
  private readonly key: Buffer;
  /** The current key's id: every new seal carries it. */
  readonly keyId: string;
  /** Ids of the previous keys this sealer can still open, in the order given. */
  readonly previousKeyIds: readonly string[];
  private readonly keys = new Map<string, Buffer>();
  private readonly nonces = new NonceSource();

  constructor(key: Buffer, previous: readonly Buffer[] = []) {
    for (const k of [key, ...previous]) {
      if (k.length !== KEY_BYTES) throw new InvalidSealKeyError(`the password cache key must be ${KEY_BYTES} bytes, got ${k.length}`);
    }
    // Own copies: the caller may zero-fill theirs.
    this.key = Buffer.from(key);
    this.keyId = keyIdOf(this.key);
    this.keys.set(this.keyId, this.key);
    const ids: string[] = [];
    for (const k of previous) {
      const id = keyIdOf(k);
      if (this.keys.has(id)) continue;
      this.keys.set(id, Buffer.from(k));
      ids.push(id);
    }
    this.previousKeyIds = ids;
  }

  /** Whether a secret sealed with `keyId` can be opened here (current or previous key). */
  canOpen(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** Seals `plaintext` for `aad` (the user id). A string is copied into a Buffer that is zero-filled afterwards. */
  seal(plaintext: Buffer | string, aad: string): SealedSecret {
    const input = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    try {
      const nonce = this.nonces.next();
      const cipher = createCipheriv(ALGORITHM, this.key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(input), cipher.final()]);
      return { ciphertext, nonce, tag: cipher.getAuthTag(), keyId: this.keyId };
    } finally {
      if (typeof plaintext === 'string') input.fill(0);
    }
  }

  /**
   * Opens a sealed secret for `aad` with the key its `keyId` names. The caller owns the returned
   * Buffer and should `fill(0)` it as soon as the password has been handed on.
   * @throws SecretKeyMismatchError when it was sealed under a key this sealer does not hold.
   * @throws SecretTamperedError when authentication fails (wrong user, altered bytes).
   */
  open(sealed: SealedSecret, aad: string): Buffer {
    const key = this.keys.get(sealed.keyId);
    if (!key) {
      const held = [this.keyId, ...this.previousKeyIds].join(', ');
      throw new SecretKeyMismatchError(`secret sealed with key ${sealed.keyId}, this process holds keys ${held} (current first)`);
    }
    if (sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES) {
      throw new SecretTamperedError('sealed secret has a malformed nonce or tag');
    }
    const decipher = createDecipheriv(ALGORITHM, key, sealed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    const head = decipher.update(sealed.ciphertext);
    try {
      const tail = decipher.final();
      const out = Buffer.concat([head, tail]);
      head.fill(0);
      tail.fill(0);
      return out;
    } catch (cause) {
      head.fill(0);
      throw new SecretTamperedError('sealed secret failed authentication', { cause });
    }
  }

  /**
   * The same secret sealed with the current key, or `undefined` when it already is. The
   * plaintext exists only inside this call and is zero-filled before it returns.
   * @throws SecretKeyMismatchError / SecretTamperedError as {@link open}.
   */
  reseal(sealed: SealedSecret, aad: string): SealedSecret | undefined {
    if (sealed.keyId === this.keyId) return undefined;
    const plaintext = this.open(sealed, aad);
    try {
      return this.seal(plaintext, aad);
    } finally {
      plaintext.fill(0);
    }
  }
}
