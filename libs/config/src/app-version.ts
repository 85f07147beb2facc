import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The idm-events release the running code belongs to: the `version` of the repository's (or the
 * image's) root package.json, read once; `unknown` when it cannot be read. The apps put it in
 * their status replies so operators see which release each one runs.
 */
export function appVersion(): string {
  if (cached !== undefined) return cached;
  try {
    // libs/config/dist/app-version.js → the root package.json (repository and image alike).
    const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
