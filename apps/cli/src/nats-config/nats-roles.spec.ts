import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nkeys } from '@nats-io/nats-core';
import { ALL_EVENT_TYPES } from '@idm/contracts';
import { NATS_ROLES, rolePermissions, type RoleSettings } from './nats-roles.js';
import { renderAuthConfig, roleEnv } from './nats-server-config.js';

const settings: RoleSettings = { stream: 'IDM_EVENTS', connectorSubjects: ['idm.directory.connector'], subscriberConsumers: ['audit'] };
const validSubject = /^[^\s.]+(\.[^\s.]+)*$/;

/** Does a permission subject (with * and >) cover a concrete subject? */
function covers(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

describe('NATS roles', () => {
  it('each event type is appended by exactly one role besides the admin', () => {
    for (const type of ALL_EVENT_TYPES) {
      const writers = NATS_ROLES.filter((r) => r !== 'admin' && rolePermissions(r, settings).publish.some((p) => covers(p, `${type}.u1`)));
      assert.equal(writers.length, 1, `${type}: ${writers.join(', ') || 'nobody'}`);
    }
  });

  it('only the admin has wildcards over the whole space or the JetStream API', () => {
    for (const role of NATS_ROLES.filter((r) => r !== 'admin')) {
      const p = rolePermissions(role, settings);
      for (const s of [...p.publish, ...p.subscribe]) {
        assert.match(s, validSubject, `${role}: ${s}`);
        assert.ok(!['>', 'idm.>', '$JS.API.>', '$JS.>', '_INBOX.>'].includes(s), `${role}: ${s}`);
        assert.ok(
          !s.startsWith('$JS.API.STREAM.CREATE') && !s.startsWith('$JS.API.STREAM.DELETE') && !s.startsWith('$JS.API.STREAM.UPDATE'),
          `${role}: ${s}`,
        );
      }
      // Replies only on its own prefix.
      assert.deepEqual(
        p.subscribe.filter((s) => s.startsWith('_INBOX')),
        [`${p.inboxPrefix}.>`],
      );
    }
  });

  it('the subscriber never publishes outside the JetStream API of its own consumers, and answers nothing', () => {
    const p = rolePermissions('subscriber', settings);
    assert.ok(
      p.publish.every((s) => s.startsWith('$JS.API.INFO') || s.startsWith('$JS.API.STREAM.INFO.') || /\.audit(\.>)?$/.test(s)),
      p.publish.join(', '),
    );
    assert.ok(!p.publish.some((s) => s.includes('CREATE') || s.includes('DELETE')));
    assert.equal(p.allowResponses, false);
  });

  it('renders public keys only, one user per role, and denies all publishing to a role with none', () => {
    const pairs = NATS_ROLES.map((role) => ({ role, pair: nkeys.createUser() }));
    const text = renderAuthConfig(
      pairs.map(({ role, pair }) => ({ role, publicKey: pair.getPublicKey() })),
      settings,
    );
    for (const { pair } of pairs) {
      assert.ok(text.includes(pair.getPublicKey()));
      assert.ok(!text.includes(new TextDecoder().decode(pair.getSeed())));
    }
    assert.equal(text.match(/nkey:/g)?.length, NATS_ROLES.length);
    assert.match(text, /password-connector[\s\S]*?publish: \{ deny: \[">"\] \}/);
    assert.match(text, /jetstream: enabled/);
  });

  it('writes the role env file with the seed path and inbox prefix', () => {
    assert.equal(
      roleEnv('notifier', '/run/idm/notifier.nk', settings).split('\n').slice(1).join('\n'),
      'NATS_NKEY_SEED_FILE=/run/idm/notifier.nk\nNATS_INBOX_PREFIX=_INBOX.notifier\nIDM_STREAM=IDM_EVENTS\n',
    );
  });
});
