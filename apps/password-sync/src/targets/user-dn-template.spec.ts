import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeDnValue, userDnTemplate } from './user-dn-template.js';
import { PasswordTargetConfigError } from './password-target.js';

describe('user DN template', () => {
  const base = 'ou=people,dc=idm,dc=test';

  it('names the entry of a plain user id', () => {
    assert.equal(userDnTemplate(`uid={userId},${base}`, base)('anna'), 'uid=anna,ou=people,dc=idm,dc=test');
  });

  it('accepts an entry deeper below the base DN, in another case and spacing', () => {
    const dnOf = userDnTemplate('CN={userId}, OU=Staff, OU=People, DC=idm, DC=test', base);
    assert.equal(dnOf('anna'), 'CN=anna, OU=Staff, OU=People, DC=idm, DC=test');
  });

  for (const [value, escaped] of [
    ['x,ou=admins', 'x\\,ou\\=admins'],
    ['a+b', 'a\\+b'],
    ['q"uote;<>', 'q\\"uote\\;\\<\\>'],
    ['back\\slash', 'back\\\\slash'],
    ['#lead', '\\#lead'],
    [' lead', '\\ lead'],
    ['trail ', 'trail\\ '],
    ['nul\0byte', 'nul\\00byte'],
    ['jürgen 😀', 'jürgen 😀'],
  ] as const) {
    it(`escapes ${JSON.stringify(value)} so it stays one DN value`, () => {
      assert.equal(escapeDnValue(value), escaped);
      assert.equal(userDnTemplate(`uid={userId},${base}`, base)(value), `uid=${escaped},${base}`);
    });
  }

  for (const [why, template] of [
    ['no placeholder', `uid=anna,${base}`],
    ['two placeholders', `uid={userId},cn={userId},${base}`],
    ['the placeholder outside the first RDN', `cn=x,uid={userId},${base}`],
    ['the placeholder inside a value', `uid=u-{userId},${base}`],
    ['nothing after the RDN', 'uid={userId}'],
    ['another subtree', 'uid={userId},ou=admins,dc=idm,dc=test'],
    ['a sibling whose name ends like the base', 'uid={userId},xou=people,dc=idm,dc=test'],
  ] as const) {
    it(`refuses a template with ${why}`, () => {
      assert.throws(() => userDnTemplate(template, base), PasswordTargetConfigError);
    });
  }
});
