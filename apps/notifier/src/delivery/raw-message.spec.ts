import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import MailComposer from 'nodemailer/lib/mail-composer';
import { DEFAULT_EMAIL_RULES, emailTypesOf } from '../email-rules/email-rules.config.js';
import { newlyQueuedEmail } from '../pending-emails/pending-email.js';
import { emailValues } from '../templates/email-values.js';
import { renderTemplate } from '../templates/template-renderer.js';
import { loadTemplates } from '../templates/template-store.js';
import type { OutgoingEmail } from './mail-transport.js';
import { RawMessageComposer } from './raw-message.js';
import { parseSender, type Mailbox } from './smtp-settings.js';

const date = new Date('2026-11-30T20:15:42.123Z');
const base = '0123456789abcdef';
const boundary = `--_NmP-${base}-Part_1`;

/** What nodemailer puts on the wire today: MailComposer's message, line ends made CRLF as its SMTP data stream does. */
async function viaMailComposer(sender: Mailbox, email: OutgoingEmail): Promise<string> {
  const message = new MailComposer({
    from: sender,
    to: { name: '', address: email.to },
    subject: email.subject,
    html: email.html,
    text: email.text,
    messageId: email.messageId,
    date,
    baseBoundary: base,
    disableFileAccess: true,
    disableUrlAccess: true,
  }).compile();
  const built = await message.build();
  return built.toString('utf8').replace(/\r\n|\r|\n/g, '\r\n');
}

const idm = parseSender('IDM <noreply@idm.example>');
const plain: OutgoingEmail = {
  to: 'ada@example.com',
  subject: 'Welcome, Ada: your account is ready',
  html: '<p>Hello Ada,</p>\n<p>Your account <strong>u-1</strong> has been created.</p>',
  text: 'Hello Ada,\n\nYour account u-1 has been created.',
  messageId: '<0b1c2d3e-0000-8000-8000-000000000001@idm.example>',
};
const long = 'x'.repeat(30) + ' ' + 'y'.repeat(60) + ' ' + 'z'.repeat(90);

const cases: ReadonlyArray<readonly [string, OutgoingEmail, Mailbox?]> = [
  ['ASCII throughout: 7bit parts', plain],
  [
    'a non-ASCII display name: Q encoded-words in the subject, quoted-printable bodies',
    {
      ...plain,
      subject: 'Welcome, Jürgen Ääkkönen-Øster: your account is ready',
      text: 'Hallo Jürgen,\nGrüße',
      html: '<p>Hallo Jürgen</p>',
    },
  ],
  [
    'a long non-ASCII subject: several folded encoded-words',
    { ...plain, subject: `Willkommen, Jürgen Ääkkönen-Øster, with a rather long subject line that needs folding: ${long}` },
  ],
  ['a long ASCII subject: folded at white space', { ...plain, subject: `Welcome ${long} and more words after it to fold` }],
  [
    'mostly non-Latin text: B encoded-words and base64 bodies',
    { ...plain, subject: '欢迎，王小明：您的帐户已准备就绪', text: '王小明，您好！\n您的帐户已创建。', html: '<p>王小明，您好！</p>' },
  ],
  ['a line longer than 76 characters: quoted-printable', { ...plain, text: `Hello,\n${long}\nbye`, html: `<p>${long}</p>` }],
  [
    'lines that start with dots (stuffed by the SMTP connection, not here)',
    { ...plain, text: '.\n..leading dots\n.', html: '.<p>x</p>\n.' },
  ],
  ['bare CR, CRLF and LF line ends in the bodies', { ...plain, text: 'a\rb\r\nc\nd', html: '<p>a</p>\r\n<p>b</p>\r<p>c</p>' }],
  ['trailing white space on lines and at the end', { ...plain, text: 'end of line   \nnext\t\nlast  ', html: '<p>x</p>  \n' }],
  ['line breaks and control characters in the subject', { ...plain, subject: 'Hi\r\nBcc: x@evil\u0007 there' }],
  ['an empty subject: no Subject header', { ...plain, subject: '' }],
  ['a long recipient address', { ...plain, to: `${'a'.repeat(80)}@${'sub.'.repeat(10)}example.com` }],
  ['a sender with a non-ASCII display name', plain, parseSender('Identitätsdienst <noreply@idm.example>')],
  ['a sender whose display name needs quoting', plain, parseSender('"IDM, Inc." <noreply@idm.example>')],
  ['a sender without a display name', plain, parseSender('noreply@idm.example')],
];

describe('RawMessageComposer', () => {
  for (const [name, email, sender = idm] of cases) {
    it(`composes what MailComposer sends, byte for byte: ${name}`, async () => {
      const composed = new RawMessageComposer(sender).compose(email, date, boundary);
      assert.ok(composed);
      assert.equal(composed.raw, await viaMailComposer(sender, email));
      assert.deepEqual(composed.envelope, { from: sender.address, to: [email.to] });
    });
  }

  it('composes every built-in template as MailComposer does', async () => {
    const templates = loadTemplates(emailTypesOf(DEFAULT_EMAIL_RULES));
    const recipient = { userId: 'u-1001', email: 'ada@example.com', displayName: 'Ada Lovelace-Byrön <ada> & "Co"', updatedSeq: 1 };
    for (const [emailType, template] of templates) {
      const pending = newlyQueuedEmail({
        userId: 'u-1001',
        emailType,
        queuedEventId: 'q-1',
        at: date,
        context: { syncFailureReason: 'policy-violation' },
      });
      const email = { to: recipient.email, ...renderTemplate(template, emailValues(recipient, pending)), messageId: '<q-1@idm.example>' };
      const composed = new RawMessageComposer(idm).compose(email, date, boundary);
      assert.equal(composed?.raw, await viaMailComposer(idm, email), emailType);
    }
  });

  it('every line ends in CRLF and no header line is longer than 78 characters', () => {
    const composed = new RawMessageComposer(idm).compose({ ...plain, subject: `Jürgen ${long}`, text: `x\ry\n${long}` }, date, boundary);
    assert.ok(composed);
    assert.doesNotMatch(composed.raw, /\r(?!\n)|(?<!\r)\n/);
    const headers = composed.raw.slice(0, composed.raw.indexOf('\r\n\r\n')).split('\r\n');
    for (const line of headers) assert.ok(line.length <= 78, line);
  });

  it('a random boundary per message by default', () => {
    const composer = new RawMessageComposer(idm);
    const boundaryOf = (raw: string) => /boundary="([^"]+)"/.exec(raw)?.[1];
    assert.notEqual(boundaryOf(composer.compose(plain)!.raw), boundaryOf(composer.compose(plain)!.raw));
  });

  it('leaves to MailComposer: a non-ASCII or quoted address, an empty text or HTML part', () => {
    const composer = new RawMessageComposer(idm);
    for (const email of [
      { ...plain, to: 'jürgen@example.com' },
      { ...plain, to: 'ada@exämple.com' },
      { ...plain, to: '"ada lovelace"@example.com' },
      { ...plain, to: 'ada..x@example.com' },
      { ...plain, text: '' },
      { ...plain, html: '' },
    ])
      assert.equal(composer.compose(email), undefined, email.to);
  });
});
