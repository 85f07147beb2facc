import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BusyError,
  ConstraintViolationError,
  InsufficientAccessError,
  InvalidCredentialsError,
  NoSuchObjectError,
  ProtocolError,
  StrongAuthRequiredError,
  UnavailableError,
  UnwillingToPerformError,
} from 'ldapts';
import { adUnicodePwd, dialectFromRootDse, mapActiveDirectoryError, mapRfc3062Error } from './ldap-dialect.js';

const PASSWORD = 'Secret-Pa55';

/** Node's own error shape for a TLS verification failure. */
function tlsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('Active Directory answers, mapped', () => {
  // [what AD sent, outcome, configuration problem?, text the message must contain]
  const table: ReadonlyArray<readonly [string, unknown, string, boolean, RegExp]> = [
    [
      '19 with 0000052D, too short',
      new ConstraintViolationError(
        '0000052D: Constraint violation - check_password_restrictions: the password is too short. It should be equal or longer than 7 characters!',
      ),
      'policy-violation',
      false,
      /^0000052D: Constraint violation - check_password_restrictions: the password is too short\. It should be equal or longer than 7 characters!$/,
    ],
    [
      '19 with 0000052D, complexity',
      new ConstraintViolationError('0000052D: Constraint violation - the password does not meet the complexity criteria!'),
      'policy-violation',
      false,
      /complexity/,
    ],
    [
      '53 with 0000052D (history / minimum age on Windows)',
      new UnwillingToPerformError('0000052D: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0'),
      'policy-violation',
      false,
      /0000052D/,
    ],
    [
      '19 without 52D',
      new ConstraintViolationError('00002082: AtrErr: DSID-03151904'),
      'target-error',
      false,
      /ConstraintViolationError \(19\)/,
    ],
    [
      '32 noSuchObject',
      new NoSuchObjectError('0000208D: NameErr: DSID-0310020A, problem 2001 (NO_OBJECT)'),
      'user-not-found',
      false,
      /NO_OBJECT/,
    ],
    [
      '49 invalidCredentials',
      new InvalidCredentialsError('80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1'),
      'target-unavailable',
      true,
      /PASSWORD_TARGET_BIND_DN and PASSWORD_TARGET_BIND_PASSWORD/,
    ],
    [
      '50 insufficientAccessRights',
      new InsufficientAccessError('error in module acl: insufficient access rights during LDB_MODIFY (50)'),
      'target-unavailable',
      true,
      /Reset Password right/,
    ],
    [
      '53 without 52D (no TLS)',
      new UnwillingToPerformError('00002077: SvcErr: DSID-03190F80, problem 5003 (WILL_NOT_PERFORM), data 0'),
      'target-unavailable',
      true,
      /encrypted connection/,
    ],
    [
      '8 strongAuthRequired',
      new StrongAuthRequiredError('BindSimple: Transport encryption required.'),
      'target-unavailable',
      true,
      /ldaps:\/\/ or PASSWORD_TARGET_STARTTLS=true/,
    ],
    ['51 busy', new BusyError('busy'), 'target-unavailable', false, /busy/],
    ['52 unavailable', new UnavailableError('unavailable'), 'target-unavailable', false, /unavailable/],
    ['2 protocolError', new ProtocolError('Extended Operation(1.3.6.1.4.1.4203.1.11.3) not supported'), 'target-error', false, /\(2\)/],
    [
      'connection refused',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:636'), { code: 'ECONNREFUSED' }),
      'target-unavailable',
      false,
      /^ECONNREFUSED: connect ECONNREFUSED/,
    ],
    ['connection reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'target-unavailable', false, /ECONNRESET/],
    [
      'timeout',
      Object.assign(new Error('Connection timeout after 5000ms'), { name: 'TimeoutError' }),
      'target-unavailable',
      false,
      /timeout/,
    ],
    [
      'TLS: unknown CA',
      tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      'target-unavailable',
      true,
      /PASSWORD_TARGET_TLS_CA_FILE/,
    ],
    [
      'TLS: wrong name',
      tlsError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      'target-unavailable',
      true,
      /PASSWORD_TARGET_TLS_SERVER_NAME/,
    ],
    [
      'TLS: self-signed',
      tlsError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'),
      'target-unavailable',
      true,
      /TLS verification/,
    ],
  ];
  for (const [what, err, status, problem, text] of table) {
    it(`${what} → ${status}${problem ? ' + configuration problem' : ''}`, () => {
      const mapped = mapActiveDirectoryError(err, PASSWORD);
      assert.equal(mapped.result.status, status);
      const message = mapped.result.status === 'applied' ? '' : mapped.result.message;
      assert.match(message, text);
      assert.doesNotMatch(message, /Code: 0x/);
      assert.equal(mapped.configurationProblem !== undefined, problem);
      if (problem) assert.equal(mapped.configurationProblem, message);
    });
  }

  it('redacts a password a server echoed, in every outcome', () => {
    for (const err of [
      new ConstraintViolationError(`0000052D: ${PASSWORD} too short`),
      new InvalidCredentialsError(`bad ${PASSWORD}`),
      new Error(`hang up ${PASSWORD}`),
    ]) {
      const mapped = mapActiveDirectoryError(err, Buffer.from(PASSWORD));
      assert.equal(JSON.stringify(mapped).includes(PASSWORD), false);
    }
  });

  it('the RFC 3062 mapping keeps its own table: 49 is target-error, any 19 a policy violation; TLS failures are still configuration problems', () => {
    assert.equal(mapRfc3062Error(new InvalidCredentialsError('x'), PASSWORD).result.status, 'target-error');
    assert.equal(
      mapRfc3062Error(new ConstraintViolationError('Password fails quality checking policy'), PASSWORD).result.status,
      'policy-violation',
    );
    assert.notEqual(mapRfc3062Error(tlsError('ERR_TLS_CERT_ALTNAME_INVALID', 'x'), PASSWORD).configurationProblem, undefined);
  });
});

describe('dialectFromRootDse', () => {
  it('Active Directory by its capability OID, even if it also listed the extension', () => {
    assert.equal(
      dialectFromRootDse({ supportedCapabilities: ['1.2.840.113556.1.4.800', '1.2.840.113556.1.4.1670'], supportedExtension: [] }),
      'active-directory',
    );
    assert.equal(
      dialectFromRootDse({ supportedCapabilities: '1.2.840.113556.1.4.800', supportedExtension: '1.3.6.1.4.1.4203.1.11.1' }),
      'active-directory',
    );
  });
  it('RFC 3062 by the Password Modify extension', () => {
    assert.equal(dialectFromRootDse({ supportedExtension: ['1.3.6.1.4.1.1466.20037', '1.3.6.1.4.1.4203.1.11.1'] }), 'rfc3062');
  });
  it('neither → undefined', () => {
    assert.equal(dialectFromRootDse({ supportedExtension: ['1.3.6.1.4.1.1466.20037'] }), undefined);
    assert.equal(dialectFromRootDse({}), undefined);
  });
});

describe('adUnicodePwd', () => {
  for (const password of ['Plain-Pass-1', 'Grüße "quoted" \\back\\slash', 'ñ€𝄞-emoji-😀', '', '"""']) {
    it(`quotes and encodes ${JSON.stringify(password)} as UTF-16LE, like Node's encoder`, () => {
      assert.deepEqual(adUnicodePwd(Buffer.from(password, 'utf8')), Buffer.from(`"${password}"`, 'utf16le'));
    });
  }
  it('turns malformed UTF-8 into U+FFFD, one per bad byte, without reading past the end', () => {
    const bad = Buffer.from([0x41, 0xc3, 0x28, 0xe2, 0x82, 0xff, 0xf0, 0x9f]);
    const decoded = adUnicodePwd(bad).toString('utf16le');
    assert.equal(decoded[0], '"');
    assert.equal(decoded.at(-1), '"');
    assert.ok(decoded.startsWith('"A\ufffd('));
    assert.equal([...decoded].filter((c) => c === '\ufffd').length >= 4, true);
  });
  it('refuses overlong encodings and encoded surrogates', () => {
    assert.equal(
      adUnicodePwd(Buffer.from([0xe0, 0x80, 0xaf]))
        .toString('utf16le')
        .includes('/'),
      false,
    );
    assert.equal(adUnicodePwd(Buffer.from([0xed, 0xa0, 0x80])).toString('utf16le'), '"\ufffd\ufffd\ufffd"');
  });
});
