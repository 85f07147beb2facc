import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, after } from 'node:test';
import { tempDir, FIXED_NOW } from '@idm/testing';
import { DEFAULT_EMAIL_RULES, emailTypesOf } from '../email-rules/email-rules.config.js';
import { newlyQueuedEmail, type PendingEmail } from '../pending-emails/pending-email.js';
import type { Recipient } from '../recipients/recipient.decider.js';
import { emailValues } from './email-values.js';
import { loadTemplates, MissingTemplateError, TemplateInvalidError } from './template-store.js';
import { renderTemplate } from './template-renderer.js';

const recipient: Recipient & { email: string } = {
  userId: 'u-1001',
  email: 'ada@example.com',
  displayName: 'Ada <script>alert(1)</script> & "Co"',
  updatedSeq: 1,
};
const pending = (emailType: string, context: Record<string, string> = {}): PendingEmail =>
  newlyQueuedEmail({ userId: 'u-1001', emailType, queuedEventId: 'q-1', at: FIXED_NOW, context });

describe('templates', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  function overrideDir(files: Record<string, string>): string {
    const dir = tempDir('notifier-templates');
    dirs.push(dir);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    return dir;
  }

  it('every default rule has a built-in template', () => {
    assert.deepEqual(
      [...loadTemplates(emailTypesOf(DEFAULT_EMAIL_RULES)).keys()],
      ['NEW_USER', 'PASSWORD_CHANGED', 'PASSWORD_SYNC_FAILED', 'PROFILE_CHANGED'],
    );
  });

  it('user data is HTML-escaped in the HTML part and left plain in the text part', () => {
    const template = loadTemplates(['NEW_USER']).get('NEW_USER')!;
    const email = renderTemplate(template, emailValues(recipient, pending('NEW_USER')));
    assert.match(email.html, /Ada &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;Co&quot;/);
    assert.doesNotMatch(email.html, /<script>/);
    assert.match(email.text, /Hello Ada <script>alert\(1\)<\/script> & "Co",/);
    assert.equal(email.subject, 'Welcome, Ada <script>alert(1)</script> & "Co": your account is ready');
  });

  it('a value cannot break the subject into several header lines', () => {
    const email = renderTemplate(
      { subject: 'Hi {{displayName}}', html: '', text: '' },
      emailValues({ ...recipient, displayName: 'A\r\nBcc: x@evil' }, pending('NEW_USER')),
    );
    assert.equal(email.subject, 'Hi A Bcc: x@evil');
  });

  it('the display name falls back to the user id', () => {
    const email = renderTemplate(
      loadTemplates(['PASSWORD_CHANGED']).get('PASSWORD_CHANGED')!,
      emailValues({ ...recipient, displayName: null }, pending('PASSWORD_CHANGED')),
    );
    assert.match(email.text, /^Hello u-1001,/);
  });

  for (const [reason, why, todo] of [
    ['user-not-found', /does not exist yet/, /retried automatically/],
    ['policy-violation', /password policy/, /choose a new password/],
    ['target-unavailable', /could not be reached/, /no action is needed/],
  ] as const) {
    it(`PASSWORD_SYNC_FAILED explains ${reason} and what to do`, () => {
      const email = renderTemplate(
        loadTemplates(['PASSWORD_SYNC_FAILED']).get('PASSWORD_SYNC_FAILED')!,
        emailValues(recipient, pending('PASSWORD_SYNC_FAILED', { syncFailureReason: reason })),
      );
      assert.match(email.text, why);
      assert.match(email.text, todo);
      assert.match(email.html, why);
    });
  }

  it('TEMPLATES_DIR overrides one type and leaves the others built in', () => {
    const dir = overrideDir({
      'NEW_USER/subject.txt': 'Hi {{ displayName }}\n',
      'NEW_USER/body.html': '<b>{{userId}}</b>',
      'NEW_USER/body.txt': 'id {{userId}}',
    });
    const templates = loadTemplates(['NEW_USER', 'PASSWORD_CHANGED'], dir);
    assert.deepEqual(templates.get('NEW_USER'), { subject: 'Hi {{ displayName }}', html: '<b>{{userId}}</b>', text: 'id {{userId}}' });
    assert.equal(renderTemplate(templates.get('NEW_USER')!, emailValues(recipient, pending('NEW_USER'))).html, '<b>u-1001</b>');
    assert.match(templates.get('PASSWORD_CHANGED')!.subject, /password change was requested/);
  });

  it('PASSWORD_CHANGED goes out when the change is accepted, before any target applied it: it says "requested", never "was changed"', () => {
    const email = renderTemplate(
      loadTemplates(['PASSWORD_CHANGED']).get('PASSWORD_CHANGED')!,
      emailValues(recipient, pending('PASSWORD_CHANGED')),
    );
    for (const part of [email.subject, email.text, email.html]) {
      assert.match(part, /requested/);
      assert.doesNotMatch(part, /password (of your account \S+ )?was changed/i);
    }
    assert.match(email.text, /if that fails, you will get another email/);
  });

  it('a rule whose email type has no template is a start-up error naming it', () => {
    assert.throws(
      () => loadTemplates(['NEW_USER', 'PASSWORD_EXPIRED', 'WELCOME_PACK']),
      (e: unknown) =>
        e instanceof MissingTemplateError &&
        e.code === 'IDM_NOTIFIER_TEMPLATE_MISSING' &&
        e.emailTypes.join() === 'PASSWORD_EXPIRED,WELCOME_PACK',
    );
  });

  it('a new type supplied under TEMPLATES_DIR is accepted', () => {
    const dir = overrideDir({
      'PASSWORD_EXPIRED/subject.txt': 'Expired',
      'PASSWORD_EXPIRED/body.html': '<p>{{displayName}}</p>',
      'PASSWORD_EXPIRED/body.txt': '{{displayName}}',
    });
    assert.ok(loadTemplates(['PASSWORD_EXPIRED'], dir).has('PASSWORD_EXPIRED'));
  });

  it('an incomplete override, an unknown placeholder or a missing folder is a start-up error', () => {
    const partial = overrideDir({ 'NEW_USER/subject.txt': 'Hi' });
    assert.throws(
      () => loadTemplates(['NEW_USER'], partial),
      (e: unknown) => e instanceof TemplateInvalidError && /body\.html, body\.txt/.test(e.message),
    );
    const typo = overrideDir({ 'NEW_USER/subject.txt': 'Hi {{displayname}}', 'NEW_USER/body.html': '', 'NEW_USER/body.txt': '' });
    assert.throws(
      () => loadTemplates(['NEW_USER'], typo),
      (e: unknown) => e instanceof TemplateInvalidError && /\{\{displayname\}\}/.test(e.message),
    );
    assert.throws(() => loadTemplates(['NEW_USER'], '/nonexistent/templates'), TemplateInvalidError);
  });
});
