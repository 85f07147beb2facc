import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { appVersion } from './app-version.js';

describe('appVersion', () => {
  it('is the root package.json version', () => {
    const root = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.match(root.version, /^\d+\.\d+\.\d+/);
    assert.equal(appVersion(), root.version);
  });
});
