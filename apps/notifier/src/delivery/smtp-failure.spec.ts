import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyRejectedRecipients, classifySmtpFailure } from './smtp-failure.js';

// The real-server behaviour is covered in nodemailer-mail-transport.spec; these pin the table
// for error shapes a loopback server cannot produce (timeouts, 503, DNS).
describe('SMTP failure classification', () => {
  const cases: [string, object, boolean, string][] = [
    ['451 reply', { code: 'EENVELOPE', responseCode: 451, message: '451 try later' }, false, 'smtp-reply'],
    ['550 reply', { code: 'EENVELOPE', responseCode: 550, message: '550 no such user' }, true, 'smtp-reply'],
    ['554 after DATA', { code: 'EMESSAGE', responseCode: 554, message: '554 rejected' }, true, 'smtp-reply'],
    ['503 bad sequence', { code: 'EPROTOCOL', responseCode: 503, message: '503 bad sequence' }, false, 'smtp-reply'],
    ['535 auth', { code: 'EAUTH', responseCode: 535, message: 'Invalid login' }, false, 'auth'],
    ['ETIMEDOUT', { code: 'ETIMEDOUT', message: 'Greeting never received' }, false, 'timeout'],
    ['ECONNREFUSED', { code: 'ESOCKET', originalCode: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, false, 'connection'],
    ['ECONNECTION', { code: 'ECONNECTION', message: 'Connection closed' }, false, 'connection'],
    ['EDNS', { code: 'EDNS', message: 'getaddrinfo ENOTFOUND' }, false, 'connection'],
    ['unknown', new Error('boom'), false, 'other'],
  ];
  for (const [name, error, permanent, kind] of cases) {
    it(`${name} → ${permanent ? 'permanent' : 'transient'} (${kind})`, () => {
      const failure = classifySmtpFailure(error);
      assert.equal(failure.permanent, permanent);
      assert.equal(failure.kind, kind);
    });
  }

  it('a partly rejected send is permanent for the rejected recipient', () => {
    const f = classifyRejectedRecipients(['ada@example.com'], '250 ok');
    assert.equal(f.permanent, true);
    assert.match(f.message, /ada@example.com/);
  });

  it('removes the SMTP password from the classified message', () => {
    assert.doesNotMatch(
      classifySmtpFailure({ code: 'EAUTH', message: 'AUTH PLAIN bWFpbGVy for mailer:Hunter2' }, ['Hunter2']).message,
      /Hunter2/,
    );
  });
});
