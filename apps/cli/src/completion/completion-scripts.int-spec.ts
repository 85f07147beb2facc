import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '@idm/testing';
import { buildProgram } from '../program.js';
import { bashCompletionScript, zshCompletionScript } from './completion-scripts.js';

// The scripts run in the real shells (bash, and zsh with its completion builtins stubbed to print
// what they are given), for the words typed so far; the last word is the one being completed.
const dir = tempDir('idm-completion');
const bashFile = join(dir, 'idm.bash');
const zshFile = join(dir, '_idm');
writeFileSync(bashFile, bashCompletionScript(buildProgram()));
writeFileSync(zshFile, zshCompletionScript(buildProgram()));

const words = (typed: readonly string[]): string => typed.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');

function bash(typed: readonly string[]): string[] {
  const script = `source "$1"; COMP_WORDS=(${words(typed)}); COMP_CWORD=${typed.length - 1}; _idm; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['--norc', '-c', script, 'bash', bashFile], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter(Boolean);
}

function zsh(typed: readonly string[]): string[] {
  const stubs = [
    'compdef() { : }',
    // _describe -t commands idm candidates: the candidates array, name only (before the first unescaped colon).
    '_describe() { local c; for c in "${(@P)4}"; do print -r -- "${${c//\\\\:/@COLON@}%%:*}"; done }',
    'compadd() { [[ "$1" == -- ]] && shift; print -rl -- "$@" }',
    "_files() { print -r -- '<files>' }",
  ].join('\n');
  const script = `${stubs}\nsource "$1"\nwords=(${words(typed)})\nCURRENT=${typed.length}\n_idm`;
  const run = spawnSync('zsh', ['-f', '-c', script, 'zsh', zshFile], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const prefix = typed.at(-1) ?? '';
  // zsh filters by the typed prefix itself; the stub shows every candidate, so filter here.
  return run.stdout
    .split('\n')
    .filter(Boolean)
    .filter((w) => w.startsWith(prefix) || w === '<files>');
}

for (const [shell, complete] of [
  ['bash', bash],
  ['zsh', zsh],
] as const) {
  describe(`idm completion ${shell}`, () => {
    it('offers the commands and the global flags after idm', () => {
      const offered = complete(['idm', '']);
      for (const w of ['publish', 'password', 'tail', 'status', 'user', 'dlq', 'schedules', 'replay', 'setup', 'nats-config', 'completion'])
        assert.ok(offered.includes(w), `${w} not offered: ${offered.join(' ')}`);
      assert.deepEqual(complete(['idm', '-']), ['--version', '--help']);
    });

    it('completes a subcommand from its prefix', () => {
      assert.deepEqual(complete(['idm', 'dlq', 'r']), ['retry']);
    });

    it("offers an event's fields, taken from the contracts, also after another spelling of the type", () => {
      const offered = complete(['idm', 'publish', 'user-added', '--']);
      for (const w of ['--user-id', '--email', '--display-name', '--attributes', '--server', '--json', '--env-file'])
        assert.ok(offered.includes(w), w);
      assert.deepEqual(complete(['idm', 'publish', 'UserAdded', '--e']), ['--email', '--env-file']);
      assert.ok(complete(['idm', '--json', 'publish', 'user-removed', '--user-id', 'ada', '--']).includes('--reason'));
    });

    it("offers an option's choices after it, and file names after an option that takes a path", () => {
      assert.deepEqual(complete(['idm', 'password', 'set', 'ada', '--origin', '']), ['source', 'vault']);
      assert.deepEqual(complete(['idm', 'completion', '']), ['bash', 'zsh']);
      assert.deepEqual(complete(['idm', 'nats-config', '--out', '']), shell === 'bash' ? [] : ['<files>']);
      assert.deepEqual(complete(['idm', 'user', '']), shell === 'bash' ? [] : ['<files>'], 'no words to offer for a user id');
    });
  });
}
