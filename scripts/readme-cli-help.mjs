#!/usr/bin/env node
// Writes the CLI's own `idm --help` into README.md between its markers (`npm run docs:cli`, after a
// build). apps/cli/src/readme-help.spec.ts fails while the README's copy differs.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, withHelpBlock } from '../dist/apps/cli/readme-help.js';

const readme = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
const before = readFileSync(readme, 'utf8');
const after = withHelpBlock(before, helpText());
if (after === before) process.stdout.write('README.md: idm --help is current\n');
else {
  writeFileSync(readme, after);
  process.stdout.write('README.md: idm --help updated\n');
}
