import type { EmailTemplate } from './email-template.js';

// Kept as TypeScript strings rather than files so they are always inside the compiled output
// (tsc does not copy non-TS assets); operators override them with files under TEMPLATES_DIR.

const footer = {
  html: '<p style="color:#666;font-size:12px">This message was sent automatically by the identity management service. Please do not reply.</p>',
  text: '--\nThis message was sent automatically by the identity management service. Please do not reply.',
};

/** The built-in template of each default email type. */
export const DEFAULT_TEMPLATES: Readonly<Record<string, EmailTemplate>> = {
  NEW_USER: {
    subject: 'Welcome, {{displayName}}: your account is ready',
    html: `<p>Hello {{displayName}},</p>
<p>Your account <strong>{{userId}}</strong> has been created. You can now sign in with it.</p>
${footer.html}`,
    text: `Hello {{displayName}},

Your account {{userId}} has been created. You can now sign in with it.

${footer.text}`,
  },
  PROFILE_CHANGED: {
    subject: 'Your profile was updated',
    html: `<p>Hello {{displayName}},</p>
<p>The profile of your account <strong>{{userId}}</strong> was changed. If you did not expect this, contact the help desk.</p>
${footer.html}`,
    text: `Hello {{displayName}},

The profile of your account {{userId}} was changed. If you did not expect this, contact the help desk.

${footer.text}`,
  },
  // Sent when PasswordChanged is logged, i.e. when the change is accepted, not when every target
  // has applied it: hence "requested". If it cannot be applied, PASSWORD_SYNC_FAILED follows.
  PASSWORD_CHANGED: {
    subject: 'A password change was requested for your account',
    html: `<p>Hello {{displayName}},</p>
<p>A new password was requested for your account <strong>{{userId}}</strong>. It is being applied to the connected systems; if that fails, you will get another email saying why and what to do.</p>
<p>If this was not you, contact the help desk immediately.</p>
${footer.html}`,
    text: `Hello {{displayName}},

A new password was requested for your account {{userId}}. It is being applied to the connected systems; if that fails, you will get another email saying why and what to do.

If this was not you, contact the help desk immediately.

${footer.text}`,
  },
  PASSWORD_SYNC_FAILED: {
    subject: 'Your new password could not be applied everywhere',
    html: `<p>Hello {{displayName}},</p>
<p>Your new password for <strong>{{userId}}</strong> could not be applied to every connected system.</p>
<p><strong>Why:</strong> {{syncFailureExplanation}}</p>
<p><strong>What to do:</strong> {{syncFailureAdvice}}</p>
${footer.html}`,
    text: `Hello {{displayName}},

Your new password for {{userId}} could not be applied to every connected system.

Why: {{syncFailureExplanation}}
What to do: {{syncFailureAdvice}}

${footer.text}`,
  },
};
