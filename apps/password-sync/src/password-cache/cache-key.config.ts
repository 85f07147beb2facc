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
  readonly key: Buffer;
  readonly source: CacheKeySource;
  readonly warnings: readonly string[];
}

/** Inputs of {@link loadCacheKey}; environment variables as they are, unparsed. */
export interface CacheKeyInputs {
  readonly PASSWORD_CACHE_KEY?: string | undefined;
  readonly PASSWORD_CACHE_KEY_FILE?: string | undefined;
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
    throw new CacheKeyError(`${where} is not base64 (expected ${KEY_BYTES} random bytes, base64-encoded, e.g. \`openssl rand -base64 32\`)`);
  }
  const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  if (key.length !== KEY_BYTES) {
    key.fill(0);
    throw new CacheKeyError(`${where} decodes to ${key.length} bytes; it must be ${KEY_BYTES} (\`openssl rand -base64 32\`)`);
  }
  return key;
}

function readKeyFile(path: string, where: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (cause) {
    throw new CacheKeyError(`${where}: cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
  try {
    return decodeBase64Key(raw.toString('utf8'), `${where} (${path})`);
  } finally {
    raw.fill(0);
  }
}

/**
 * Loads the AES-256 key that seals cached passwords, once, at start.
 *
 * Order: `PASSWORD_CACHE_KEY` (base64), else `PASSWORD_CACHE_KEY_FILE` (a file holding the base64
 * key), else — only with `IDM_EMBEDDED=true` — `<DATA_DIR>/password-cache.key`, generated with
 * mode 0600 on first start. Setting both variables is an error, so nobody wonders which one won.
 * @throws CacheKeyError with a message that names the variable at fault and never the key.
 */
export function loadCacheKey(inputs: CacheKeyInputs): LoadedCacheKey {
  const fromEnv = inputs.PASSWORD_CACHE_KEY?.trim() || undefined;
  const fromFile = inputs.PASSWORD_CACHE_KEY_FILE?.trim() || undefined;
  if (fromEnv && fromFile) throw new CacheKeyError('set only one of PASSWORD_CACHE_KEY and PASSWORD_CACHE_KEY_FILE');
  if (fromEnv) return { key: decodeBase64Key(fromEnv, 'PASSWORD_CACHE_KEY'), source: 'env', warnings: [] };
  if (fromFile) return { key: readKeyFile(fromFile, 'PASSWORD_CACHE_KEY_FILE'), source: 'file', warnings: [] };
  if (!inputs.embedded) {
    throw new CacheKeyError(
      'no password cache key: set PASSWORD_CACHE_KEY (32 random bytes, base64) or PASSWORD_CACHE_KEY_FILE; ' +
        'only the local embedded mode (IDM_EMBEDDED=true) may generate one',
    );
  }
  const path = join(inputs.dataDir, GENERATED_KEY_FILE);
  if (existsSync(path)) {
    const warnings = [`using the generated password cache key ${path} (embedded mode); set PASSWORD_CACHE_KEY or PASSWORD_CACHE_KEY_FILE in production`];
    if ((statSync(path).mode & 0o077) !== 0) warnings.push(`${path} is readable by group or others; it should be mode 0600`);
    return { key: readKeyFile(path, 'generated key file'), source: 'generated-earlier', warnings };
  }
  mkdirSync(inputs.dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  // 'wx': never overwrite a key that another replica wrote a moment ago — that would orphan its secrets.
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return {
    key,
    source: 'generated',
    warnings: [
      `generated a password cache key in ${path} (embedded mode only); losing it makes cached passwords unreadable. ` +
        'Set PASSWORD_CACHE_KEY or PASSWORD_CACHE_KEY_FILE in production',
    ],
  };
}
