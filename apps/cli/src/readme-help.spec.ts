import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { helpText, withHelpBlock } from './readme-help.js';

// dist/apps/cli/readme-help.spec.js → the repository's README.md.
const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'README.md');

describe("the README's idm --help", () => {
  it('is what idm --help prints now (regenerate with npm run docs:cli)', () => {
    const readme = readFileSync(README, 'utf8');
    assert.equal(withHelpBlock(readme, helpText()), readme);
  });

  it('is the whole help: every command and the environment', () => {
    const help = helpText();
    for (const command of [
      'publish',
      'password',
      'tail',
      'status',
      'user',
      'dlq',
      'schedules',
      'replay',
      'setup',
      'nats-config',
      'completion',
    ])
      assert.match(help, new RegExp(`^  ${command}\\b`, 'm'));
    assert.match(help, /^Environment:/m);
  });
});
