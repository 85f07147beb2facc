import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** The password cache key is missing, unreadable or malformed. Messages never contain key material. */
export class CacheKeyError extends Error {
  override readonly name = 'CacheKeyError';
  readonly code = 'IDM_PASSWORD_CACHE_KEY_INVALID';
}

/** Where the key came from, for the start-up log line. */
export type CacheKeySource = 'env' | 'file' | 'generated' | 'generated-earlier';

/** A loaded key plus warnings to log once. */
export interface LoadedCacheKey {
  /** The current key: every new seal and every re-seal uses it. */
  readonly key: Buffer;
  /**
   * Keys that may still open rows sealed before a rotation (`PASSWORD_CACHE_PREVIOUS_KEYS`, and
   * the lines after the first in `PASSWORD_CACHE_KEY_FILE`); never used to seal. None when absent.
   */
  readonly previous?: readonly Buffer[];
  readonly source: CacheKeySource;
  readonly warnings: readonly string[];
}

/** Inputs of {@link loadCacheKey}; environment variables as they are, unparsed. */
export interface CacheKeyInputs {
  readonly PASSWORD_CACHE_KEY?: string | undefined;
  readonly PASSWORD_CACHE_KEY_FILE?: string | undefined;
  /** Base64 keys separated by commas or white space: previous keys, for rotation. */
  readonly PASSWORD_CACHE_PREVIOUS_KEYS?: string | undefined;
  /** `IDM_EMBEDDED=true`: local mode, where a key may be generated in the data folder. */
  readonly embedded: boolean;
  readonly dataDir: string;
}

const KEY_BYTES = 32;
/** File name of the generated key inside the data folder (embedded mode only). */
export const GENERATED_KEY_FILE = 'password-cache.key';

function decodeBase64Key(text: string, where: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new CacheKeyError(
      `${where} is not base64 (expected ${KEY_BYTES} random bytes, base64-encoded, e.g. \`openssl rand -base64 32\`)`,
    );
  }
  const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  if (key.length !== KEY_BYTES) {
    key.fill(0);
    throw new CacheKeyError(`${where} decodes to ${key.length} bytes; it must be ${KEY_BYTES} (\`openssl rand -base64 32\`)`);
  }
  return key;
}

/**
 * The keys of a key file: one base64 key per line, blank lines and `#` comments skipped. The
 * first is the current key, the others are previous keys (rotate by putting the new key first).
 */
function readKeyFile(path: string, where: string): Buffer[] {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (cause) {
    throw new CacheKeyError(`${where}: cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
  try {
    const lines = raw
      .toString('utf8')
      .split(/\r?\n/)
      .map((line, i) => ({ text: line.trim(), no: i + 1 }))
      .filter((l) => l.text !== '' && !l.text.startsWith('#'));
    if (lines.length === 0) throw new CacheKeyError(`${where} (${path}) holds no key`);
    return lines.map((l) => decodeBase64Key(l.text, lines.length === 1 ? `${where} (${path})` : `${where} (${path}, line ${l.no})`));
  } finally {
    raw.fill(0);
  }
}

function readPreviousKeys(text: string | undefined): Buffer[] {
  const items = (text ?? '').split(/[\s,]+/).filter((k) => k !== '');
  return items.map((item, i) =>
    decodeBase64Key(item, items.length === 1 ? 'PASSWORD_CACHE_PREVIOUS_KEYS' : `PASSWORD_CACHE_PREVIOUS_KEYS (key ${i + 1})`),
  );
}

/** Drops previous keys equal to the current one or to each other (with a warning: a likely slip). */
function withPrevious(loaded: Omit<LoadedCacheKey, 'previous'>, candidates: readonly Buffer[]): LoadedCacheKey {
  const previous: Buffer[] = [];
  const warnings = [...loaded.warnings];
  for (const key of candidates) {
    if (key.equals(loaded.key) || previous.some((p) => p.equals(key))) {
      warnings.push('a previous password cache key repeats the current key or another previous key; ignored');
      continue;
    }
    previous.push(key);
  }
  return { ...loaded, previous, warnings };
}

/**
 * Loads the AES-256 keys that seal cached passwords, once, at start: the current key and the
 * previous keys that may still open rows sealed before a rotation.
 *
 * Current key: `PASSWORD_CACHE_KEY` (base64), else the first key of `PASSWORD_CACHE_KEY_FILE`,
 * else — only with `IDM_EMBEDDED=true` — `<DATA_DIR>/password-cache.key`, generated with mode 0600
 * on first start. Setting both variables is an error, so nobody wonders which one won. Previous
 * keys: the further lines of the key file, then `PASSWORD_CACHE_PREVIOUS_KEYS`.
 * @throws CacheKeyError with a message that names the variable at fault and never the key.
 */
export function loadCacheKey(inputs: CacheKeyInputs): LoadedCacheKey {
  const previous = readPreviousKeys(inputs.PASSWORD_CACHE_PREVIOUS_KEYS);
  const current = loadCurrentKey(inputs);
  return withPrevious(current.loaded, [...current.morePrevious, ...previous]);
}

function loadCurrentKey(inputs: CacheKeyInputs): { loaded: Omit<LoadedCacheKey, 'previous'>; morePrevious: Buffer[] } {
  const fromEnv = inputs.PASSWORD_CACHE_KEY?.trim() || undefined;
  const fromFile = inputs.PASSWORD_CACHE_KEY_FILE?.trim() || undefined;
  if (fromEnv && fromFile) throw new CacheKeyError('set only one of PASSWORD_CACHE_KEY and PASSWORD_CACHE_KEY_FILE');
  if (fromEnv) return { loaded: { key: decodeBase64Key(fromEnv, 'PASSWORD_CACHE_KEY'), source: 'env', warnings: [] }, morePrevious: [] };
  if (fromFile) {
    const [key, ...morePrevious] = readKeyFile(fromFile, 'PASSWORD_CACHE_KEY_FILE');
    return { loaded: { key: key!, source: 'file', warnings: [] }, morePrevious };
  }
  if (!inputs.embedded) {
    throw new CacheKeyError(
      'no password cache key: set PASSWORD_CACHE_KEY (32 random bytes, base64) or PASSWORD_CACHE_KEY_FILE; ' +
        'only the local embedded mode (IDM_EMBEDDED=true) may generate one',
    );
  }
  const path = join(inputs.dataDir, GENERATED_KEY_FILE);
  if (existsSync(path)) {
    const warnings = [
      `using the generated password cache key ${path} (embedded mode); set PASSWORD_CACHE_KEY or PASSWORD_CACHE_KEY_FILE in production`,
    ];
    if ((statSync(path).mode & 0o077) !== 0) warnings.push(`${path} is readable by group or others; it should be mode 0600`);
    return { loaded: { key: readKeyFile(path, 'generated key file')[0]!, source: 'generated-earlier', warnings }, morePrevious: [] };
  }
  mkdirSync(inputs.dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  // 'wx': never overwrite a key that another replica wrote a moment ago — that would orphan its secrets.
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return {
    loaded: {
      key,
      source: 'generated',
      warnings: [
        `generated a password cache key in ${path} (embedded mode only); losing it makes cached passwords unreadable. ` +
          'Set PASSWORD_CACHE_KEY or PASSWORD_CACHE_KEY_FILE in production',
      ],
    },
    morePrevious: [],
  };
}
