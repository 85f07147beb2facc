import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { HarnessError } from './harness-errors.js';

/**
 * Finds an executable on `PATH`, then in `/usr/sbin` and `/usr/local/sbin` (not on every user's PATH).
 * @throws HarnessError `IDM_HARNESS_MISSING_BINARY` naming the apt package to install.
 */
export function findBinary(name: string, installHint: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  throw new HarnessError('IDM_HARNESS_MISSING_BINARY', `${name} not found on PATH or in /usr/sbin: install it with \`${installHint}\``);
}
