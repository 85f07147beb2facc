import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import nodemailer, { type Transporter } from 'nodemailer';
import { startSmtpServer, type SmtpServerHandle } from './smtp-server.harness.js';

interface SmtpClientError extends Error {
  readonly responseCode?: number;
  readonly code?: string;
}

describe('smtp test server', () => {
  let smtp: SmtpServerHandle;
  before(async () => {
    smtp = await startSmtpServer();
  });
  after(() => smtp.dispose());

  const transport = (): Transporter =>
    nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      ignoreTLS: true,
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 5_000,
    });
  const mail = {
    from: 'idm@example.com',
    to: 'ada@example.com',
    subject: 'Welcome, Ada — ünïcode',
    text: 'Hello Ada\nline two',
    html: '<p>Hello <b>Ada</b></p>',
  };

  test('accept: records envelope, subject, message id and both bodies', async () => {
    await smtp.setMode('accept');
    await smtp.clear();
    const info = await transport().sendMail(mail);
    const [received] = await smtp.waitForMessages(1);
    assert.ok(received);
    assert.equal(received.from, 'idm@example.com');
    assert.deepEqual(received.to, ['ada@example.com']);
    assert.equal(received.subject, mail.subject);
    assert.equal(received.messageId, info.messageId);
    assert.equal(received.text, mail.text);
    assert.equal(received.html, mail.html);
    assert.match(received.raw, /^Content-Type: multipart\/alternative/m);
  });

  test('tempfail: MAIL FROM is answered 451 by default, the greeting 421 at stage connect', async () => {
    await smtp.clear();
    await smtp.setMode('tempfail');
    await assert.rejects(transport().sendMail(mail), (err: SmtpClientError) => err.responseCode === 451);
    await smtp.setMode('tempfail', { stage: 'connect' });
    await assert.rejects(transport().sendMail(mail), (err: SmtpClientError) => err.responseCode === 421);
    await smtp.setMode('tempfail', { stage: 'data' });
    await assert.rejects(transport().sendMail(mail), (err: SmtpClientError) => err.responseCode === 451);
    assert.deepEqual(await smtp.messages(), []);
  });

  test('reject: 550 for listed recipients only, the rest is delivered', async () => {
    await smtp.clear();
    await smtp.setMode('reject', { rejectRecipients: ['Bad@example.com'] });
    const info = await transport().sendMail({ ...mail, to: ['good@example.com', 'bad@example.com'] });
    assert.deepEqual(info.accepted, ['good@example.com']);
    assert.deepEqual(info.rejected, ['bad@example.com']);
    await assert.rejects(transport().sendMail({ ...mail, to: 'bad@example.com' }), (err: SmtpClientError) => err.responseCode === 550);
    const received = await smtp.messages();
    assert.equal(received.length, 1);
    assert.deepEqual(received[0]?.to, ['good@example.com']);
  });

  test('drop: the connection is destroyed mid-session and nothing is recorded', async () => {
    await smtp.clear();
    await smtp.setMode('drop');
    await assert.rejects(
      transport().sendMail(mail),
      (err: SmtpClientError) => err.responseCode === undefined && typeof err.code === 'string',
    );
    await smtp.setMode('drop', { stage: 'mail' });
    await assert.rejects(transport().sendMail(mail), (err: SmtpClientError) => err.responseCode === undefined);
    assert.deepEqual(await smtp.messages(), []);
  });

  test('restart: same port, same mode, earlier messages kept; refused while stopped', async () => {
    await smtp.clear();
    await smtp.setMode('accept');
    await transport().sendMail(mail);
    await smtp.stop();
    await assert.rejects(transport().sendMail(mail), (err: SmtpClientError) => err.code === 'ESOCKET' || err.code === 'ECONNECTION');
    await smtp.restart();
    await transport().sendMail({ ...mail, subject: 'second' });
    const received = await smtp.waitForMessages(2);
    assert.deepEqual(
      received.map((m) => m.subject),
      [mail.subject, 'second'],
    );
  });
});
