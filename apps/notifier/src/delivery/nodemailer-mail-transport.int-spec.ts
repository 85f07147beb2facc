import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { freePort, startSmtpServer, type SmtpServerHandle } from '@idm/testing';
import type { MailTransport, OutgoingEmail, SendResult } from './mail-transport.js';
import { NodemailerMailTransport } from './nodemailer-mail-transport.js';
import { RawMessageComposer } from './raw-message.js';
import { parseSender, parseSmtpUrl, type SmtpSettings } from './smtp-settings.js';
import { WorkerMailTransport } from './worker-mail-transport.js';

/**
 * Every case runs against both transports: sending in worker threads must give the same results
 * and the same classification as sending on the main thread.
 */
const variants: ReadonlyArray<{ readonly name: string; readonly start: (s: SmtpSettings) => MailTransport | Promise<MailTransport> }> = [
  { name: 'NodemailerMailTransport', start: (s) => new NodemailerMailTransport(s) },
  { name: 'WorkerMailTransport (2 threads)', start: (s) => WorkerMailTransport.start(s, 2) },
];

const email: OutgoingEmail = {
  to: 'ada@example.com',
  subject: 'Your password was changed',
  html: '<p>Hello &amp; welcome</p>',
  text: 'Hello & welcome',
  messageId: '<0b1c2d3e-0000-8000-8000-000000000001@idm.example>',
};

/** Everything the composed message has to get right: encoded-words, folding, QP and base64 bodies, long lines, leading dots. */
const awkward: OutgoingEmail = {
  to: 'jurgen.aakkonen@example.com',
  subject: `Willkommen, Jürgen Ääkkönen-Øster: your account is ready, with a subject long enough to be folded ${'x'.repeat(40)}`,
  text: `Hallo Jürgen,\n.\n..two dots\n.leading dot\n${'long line '.repeat(12)}\n\nGrüße`,
  html: `<p>王小明，您好！</p>\n.\n<p>${'long line '.repeat(12)}</p>`,
  messageId: '<0b1c2d3e-0000-8000-8000-000000000002@idm.example>',
};

function settings(url: string, overrides: Partial<SmtpSettings> = {}): SmtpSettings {
  return {
    ...parseSmtpUrl(url),
    from: 'IDM <noreply@idm.example>',
    rejectUnauthorized: true,
    maxConnections: 2,
    connectionTimeoutMs: 3000,
    greetingTimeoutMs: 3000,
    socketTimeoutMs: 5000,
    ...overrides,
  };
}

async function sendWith(
  start: (s: SmtpSettings) => MailTransport | Promise<MailTransport>,
  s: SmtpSettings,
  message: OutgoingEmail = email,
): Promise<SendResult> {
  const transport = await start(s);
  try {
    return await transport.send(message);
  } finally {
    await transport.close();
  }
}

function failureOf(result: SendResult) {
  assert.equal(result.ok, false, `expected a failure, got ${JSON.stringify(result)}`);
  if (result.ok) throw new Error('unreachable');
  return result.failure;
}

/** A local smtp-server for what the shared harness does not do: AUTH and implicit TLS. */
async function localServer(
  options: SMTPServerOptions,
): Promise<{ url: (scheme: string, userinfo?: string) => string; close: () => Promise<void> }> {
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    ...options,
    onData: (stream, _s, cb) => stream.on('end', () => cb()).resume(),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: (scheme, userinfo) => `${scheme}://${userinfo ? `${userinfo}@` : ''}127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const variant of variants) {
  const sendOnce = (s: SmtpSettings, message: OutgoingEmail = email) => sendWith(variant.start, s, message);

  describe(`${variant.name} against a real SMTP server`, () => {
    let smtp: SmtpServerHandle;
    before(async () => {
      smtp = await startSmtpServer({ mode: 'accept' });
    });
    after(async () => {
      await smtp.dispose();
    });

    it('accept: the message arrives with our Message-ID, sender, subject, HTML and text', async () => {
      await smtp.setMode('accept');
      await smtp.clear();
      const result = await sendOnce(settings(smtp.url));
      assert.deepEqual(result.ok && result.messageId, email.messageId);
      const [received] = await smtp.waitForMessages(1);
      assert.equal(received?.messageId, email.messageId);
      assert.deepEqual(received?.to, ['ada@example.com']);
      assert.equal(received?.from, 'noreply@idm.example');
      assert.equal(received?.subject, email.subject);
      assert.match(received?.html ?? '', /Hello &amp; welcome/);
      assert.match(received?.text ?? '', /Hello & welcome/);
    });

    it('a composed message arrives as composed, and mailparser reads back every header and part', async () => {
      await smtp.setMode('accept');
      await smtp.clear();
      const s = settings(smtp.url, { from: 'Identitätsdienst <noreply@idm.example>' });
      const result = await sendOnce(s, awkward);
      assert.deepEqual(result.ok && result.messageId, awkward.messageId);
      const [received] = await smtp.waitForMessages(1);
      assert.ok(received);
      assert.deepEqual(received.to, [awkward.to]);
      assert.equal(received.from, 'noreply@idm.example');
      // The bytes after the SMTP server removed the dot-stuffing are the composed message (its Date and boundary aside).
      const date = new Date(/^Date: (.+)\r$/m.exec(received.raw)?.[1] ?? '');
      const boundary = /boundary="([^"]+)"/.exec(received.raw)?.[1];
      assert.equal(received.raw, new RawMessageComposer(parseSender(s.from)).compose(awkward, date, boundary)?.raw);
      const parsed = await simpleParser(received.raw);
      assert.equal(parsed.subject, awkward.subject);
      assert.equal(parsed.messageId, awkward.messageId);
      assert.deepEqual(parsed.from?.value, [{ name: 'Identitätsdienst', address: 'noreply@idm.example' }]);
      assert.equal(parsed.text, awkward.text);
      assert.equal(parsed.html, awkward.html);
    });

    it('tempfail: a 451 is transient', async () => {
      await smtp.setMode('tempfail', { stage: 'mail' });
      const failure = failureOf(await sendOnce(settings(smtp.url)));
      assert.equal(failure.permanent, false);
      assert.equal(failure.kind, 'smtp-reply');
      assert.equal(failure.responseCode, 451);
    });

    it('tempfail at the greeting: a 421 is transient', async () => {
      await smtp.setMode('tempfail', { stage: 'connect' });
      const failure = failureOf(await sendOnce(settings(smtp.url)));
      assert.equal(failure.permanent, false);
    });

    it('reject: a 550 for the recipient is permanent', async () => {
      await smtp.setMode('reject');
      const failure = failureOf(await sendOnce(settings(smtp.url)));
      assert.equal(failure.permanent, true);
      assert.equal(failure.responseCode, 550);
    });

    it('drop: a connection cut after DATA is transient (the next tick resends with the same Message-ID)', async () => {
      await smtp.setMode('drop', { stage: 'data' });
      const failure = failureOf(await sendOnce(settings(smtp.url)));
      assert.equal(failure.permanent, false);
      assert.ok(['connection', 'other'].includes(failure.kind), failure.kind);
    });

    it('a refused connection is transient', async () => {
      const port = await freePort();
      const failure = failureOf(await sendOnce(settings(`smtp://127.0.0.1:${port}`)));
      assert.equal(failure.permanent, false);
      assert.equal(failure.kind, 'connection');
    });

    describe('with credentials in SMTP_URL', () => {
      const password = 'S3cr3t:p@ss/word';
      let server: Awaited<ReturnType<typeof localServer>>;
      before(async () => {
        server = await localServer({
          authMethods: ['PLAIN', 'LOGIN'],
          allowInsecureAuth: true,
          onAuth: (auth, _session, cb) =>
            auth.username === 'mailer' && auth.password === password
              ? cb(null, { user: 'mailer' })
              : cb(new Error('Invalid username or password')),
        });
      });
      after(async () => {
        await server.close();
      });

      it('logs in with the percent-decoded user and password', async () => {
        const result = await sendOnce(settings(server.url('smtp', `mailer:${encodeURIComponent(password)}`)));
        assert.equal(result.ok, true, JSON.stringify(result));
      });

      it('a refused login is transient and its error never contains the credentials', async () => {
        const wrong = 'Wr0ng-Secret';
        const s = settings(server.url('smtp', `mailer:${wrong}`));
        const failure = failureOf(await sendOnce(s));
        assert.equal(failure.permanent, false);
        assert.equal(failure.kind, 'auth');
        assert.doesNotMatch(failure.message, /Wr0ng-Secret/);
        assert.doesNotMatch(s.safeUrl, /Wr0ng-Secret/);
      });
    });

    describe('over smtps:// with a self-signed certificate', () => {
      let server: Awaited<ReturnType<typeof localServer>>;
      before(async () => {
        server = await localServer({ secure: true, authOptional: true });
      });
      after(async () => {
        await server.close();
      });

      it('verifies the certificate by default: the send fails, transiently', async () => {
        const failure = failureOf(await sendOnce(settings(server.url('smtps'))));
        assert.equal(failure.permanent, false);
        assert.equal(failure.kind, 'tls');
      });

      it('sends when verification is explicitly turned off', async () => {
        const result = await sendOnce(settings(server.url('smtps'), { rejectUnauthorized: false }));
        assert.equal(result.ok, true, JSON.stringify(result));
      });
    });
  });
}
