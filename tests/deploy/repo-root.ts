import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: specs run from dist/tests/deploy. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
