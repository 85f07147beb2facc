import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cookieValue, decideAccess, sessionValue, type AccessRequest } from './access.decider.js';

const TOKEN = 'a-token-of-sixteen-chars';
const read = (over: Partial<AccessRequest> = {}): AccessRequest => ({
  authorization: undefined,
  sessionCookie: undefined,
  action: false,
  remote: '10.0.0.7',
  ...over,
});

describe('decideAccess', () => {
  describe('with a token configured', () => {
    const policy = { token: TOKEN, allowActions: true };
    it('a request without a token is refused with 401', () => {
      assert.deepEqual(decideAccess(read(), policy), {
        allow: false,
        status: 401,
        reason: 'a token is required (Authorization: Bearer, or log in)',
      });
    });
    it('a wrong bearer token or cookie is refused with 401', () => {
      assert.equal(decideAccess(read({ authorization: 'Bearer nope' }), policy).allow, false);
      assert.equal(decideAccess(read({ sessionCookie: sessionValue('another-token-0000') }), policy).allow, false);
      assert.equal(decideAccess(read({ sessionCookie: TOKEN }), policy).allow, false, 'the cookie is not the token itself');
    });
    it('the bearer token or the session cookie lets it in, named for the audit log', () => {
      assert.deepEqual(decideAccess(read({ authorization: `Bearer ${TOKEN}` }), policy), { allow: true, who: 'bearer@10.0.0.7' });
      assert.deepEqual(decideAccess(read({ sessionCookie: sessionValue(TOKEN) }), policy), { allow: true, who: 'session@10.0.0.7' });
    });
    it('an action without a token is refused with 401 even when actions are on', () => {
      assert.equal(decideAccess(read({ action: true }), policy).allow, false);
    });
  });

  describe('with actions off', () => {
    const policy = { token: TOKEN, allowActions: false };
    it('reads pass, actions are refused with 403 naming the switch', () => {
      assert.equal(decideAccess(read({ authorization: `Bearer ${TOKEN}` }), policy).allow, true);
      const d = decideAccess(read({ authorization: `Bearer ${TOKEN}`, action: true }), policy);
      assert.equal(d.allow, false);
      assert.ok(!d.allow && d.status === 403 && d.reason.includes('CONSOLE_ALLOW_ACTIONS'));
    });
  });

  describe('without a token (loopback only, enforced at start)', () => {
    it('everyone who reaches the port is the local operator', () => {
      assert.deepEqual(decideAccess(read({ remote: '127.0.0.1' }), { token: undefined, allowActions: false }), {
        allow: true,
        who: 'local@127.0.0.1',
      });
    });
  });
});

describe('cookieValue', () => {
  it('finds one cookie among several, decoded', () => {
    assert.equal(cookieValue('a=1; idm_console=x%3Dy; b=2', 'idm_console'), 'x=y');
    assert.equal(cookieValue(undefined, 'idm_console'), undefined);
    assert.equal(cookieValue('other=1', 'idm_console'), undefined);
  });
});
