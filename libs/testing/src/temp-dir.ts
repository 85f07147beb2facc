import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Creates a fresh, empty directory under `os.tmpdir()` named `<prefix>-XXXXXX` and returns its path.
 * The caller removes it (harnesses do so in `dispose()`).
 */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}-`));
}
