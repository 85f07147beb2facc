import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheKeyError, GENERATED_KEY_FILE, loadCacheKey } from './cache-key.config.js';

describe('loadCacheKey', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pwsync-key-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const noKeyMaterialIn = (key: string) => (err: unknown) =>
    err instanceof CacheKeyError && err.code === 'IDM_PASSWORD_CACHE_KEY_INVALID' && !err.message.includes(key);

  it('reads a base64 key from PASSWORD_CACHE_KEY', () => {
    const key = randomBytes(32);
    const loaded = loadCacheKey({ PASSWORD_CACHE_KEY: key.toString('base64'), embedded: false, dataDir: dir });
    assert.deepEqual(loaded.key, key);
    assert.equal(loaded.source, 'env');
    assert.deepEqual(loaded.warnings, []);
  });

  it('rejects a key of the wrong length without echoing it', () => {
    const short = randomBytes(16).toString('base64');
    assert.throws(() => loadCacheKey({ PASSWORD_CACHE_KEY: short, embedded: false, dataDir: dir }), noKeyMaterialIn(short));
  });

  it('rejects a key that is not base64 without echoing it', () => {
    const bad = 'not base64 at all!!';
    assert.throws(() => loadCacheKey({ PASSWORD_CACHE_KEY: bad, embedded: false, dataDir: dir }), noKeyMaterialIn(bad));
  });

  it('reads a key file named by PASSWORD_CACHE_KEY_FILE', () => {
    const key = randomBytes(32);
    const path = join(dir, 'k1');
    writeFileSync(path, `${key.toString('base64')}\n`);
    const loaded = loadCacheKey({ PASSWORD_CACHE_KEY_FILE: path, embedded: false, dataDir: dir });
    assert.deepEqual(loaded.key, key);
    assert.equal(loaded.source, 'file');
  });

  it('names a missing key file clearly', () => {
    assert.throws(
      () => loadCacheKey({ PASSWORD_CACHE_KEY_FILE: join(dir, 'absent'), embedded: false, dataDir: dir }),
      (err: unknown) => err instanceof CacheKeyError && /PASSWORD_CACHE_KEY_FILE: cannot read .*ENOENT/.test(err.message),
    );
  });

  it('refuses both variables at once', () => {
    assert.throws(
      () =>
        loadCacheKey({
          PASSWORD_CACHE_KEY: randomBytes(32).toString('base64'),
          PASSWORD_CACHE_KEY_FILE: join(dir, 'k1'),
          embedded: false,
          dataDir: dir,
        }),
      /set only one/,
    );
  });

  it('refuses to start with neither outside the embedded mode', () => {
    assert.throws(() => loadCacheKey({ embedded: false, dataDir: dir }), /no password cache key.*IDM_EMBEDDED=true/s);
  });

  it('generates a key with mode 0600 in embedded mode, warns, and reuses it on the next start', () => {
    const data = join(dir, 'embedded');
    const first = loadCacheKey({ embedded: true, dataDir: data });
    assert.equal(first.source, 'generated');
    assert.equal(first.warnings.length, 1);
    const path = join(data, GENERATED_KEY_FILE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(first.warnings.join(' ').includes(first.key.toString('base64')), false);
    const second = loadCacheKey({ embedded: true, dataDir: data });
    assert.equal(second.source, 'generated-earlier');
    assert.deepEqual(second.key, first.key);
    assert.equal(readFileSync(path, 'utf8').trim(), first.key.toString('base64'));
  });

  it('prefers an explicit key over the embedded generation', () => {
    const key = randomBytes(32);
    const loaded = loadCacheKey({ PASSWORD_CACHE_KEY: key.toString('base64'), embedded: true, dataDir: join(dir, 'unused') });
    assert.equal(loaded.source, 'env');
  });

  describe('previous keys (rotation)', () => {
    it('reads PASSWORD_CACHE_PREVIOUS_KEYS, comma or space separated', () => {
      const [current, a, b] = [randomBytes(32), randomBytes(32), randomBytes(32)];
      const loaded = loadCacheKey({
        PASSWORD_CACHE_KEY: current.toString('base64'),
        PASSWORD_CACHE_PREVIOUS_KEYS: `${a.toString('base64')}, ${b.toString('base64')}`,
        embedded: false,
        dataDir: dir,
      });
      assert.deepEqual(loaded.key, current);
      assert.deepEqual(loaded.previous, [a, b]);
      assert.deepEqual(loaded.warnings, []);
    });

    it('reads a key file with several keys: the first is current, the others previous; comments and blank lines skipped', () => {
      const [current, a, b] = [randomBytes(32), randomBytes(32), randomBytes(32)];
      const path = join(dir, 'keyring');
      writeFileSync(path, `# rotated 2026-11-30\n${current.toString('base64')}\n\n${a.toString('base64')}\n`);
      const loaded = loadCacheKey({
        PASSWORD_CACHE_KEY_FILE: path,
        PASSWORD_CACHE_PREVIOUS_KEYS: b.toString('base64'),
        embedded: false,
        dataDir: dir,
      });
      assert.deepEqual(loaded.key, current);
      assert.deepEqual(loaded.previous, [a, b]);
    });

    it('ignores a previous key equal to the current one, with a warning that names no key', () => {
      const current = randomBytes(32).toString('base64');
      const loaded = loadCacheKey({ PASSWORD_CACHE_KEY: current, PASSWORD_CACHE_PREVIOUS_KEYS: current, embedded: false, dataDir: dir });
      assert.deepEqual(loaded.previous, []);
      assert.equal(loaded.warnings.length, 1);
      assert.ok(!loaded.warnings[0]!.includes(current));
    });

    it('names the bad previous key by position, never by value', () => {
      const good = randomBytes(32).toString('base64');
      const bad = randomBytes(20).toString('base64');
      assert.throws(
        () =>
          loadCacheKey({
            PASSWORD_CACHE_KEY: randomBytes(32).toString('base64'),
            PASSWORD_CACHE_PREVIOUS_KEYS: `${good},${bad}`,
            embedded: false,
            dataDir: dir,
          }),
        (err: unknown) =>
          err instanceof CacheKeyError &&
          /PASSWORD_CACHE_PREVIOUS_KEYS \(key 2\)/.test(err.message) &&
          !err.message.includes(bad) &&
          !err.message.includes(good),
      );
      const path = join(dir, 'bad-keyring');
      writeFileSync(path, `${good}\n${bad}\n`);
      assert.throws(
        () => loadCacheKey({ PASSWORD_CACHE_KEY_FILE: path, embedded: false, dataDir: dir }),
        (err: unknown) => err instanceof CacheKeyError && /line 2/.test(err.message) && !err.message.includes(bad),
      );
    });

    it('an empty key file is an error, not a missing key silently', () => {
      const path = join(dir, 'empty-keyring');
      writeFileSync(path, '# nothing yet\n\n');
      assert.throws(() => loadCacheKey({ PASSWORD_CACHE_KEY_FILE: path, embedded: false, dataDir: dir }), /holds no key/);
    });
  });
});
