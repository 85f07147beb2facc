import type { PasswordSyncFailureReason } from '@idm/contracts';
import type { PendingEmail } from '../pending-emails/pending-email.js';
import type { Recipient } from '../recipients/recipient.decider.js';
import type { TemplateValues } from './email-template.js';

const SYNC_FAILURE_TEXT: Readonly<Record<PasswordSyncFailureReason, { explanation: string; advice: string }>> = {
  'user-not-found': {
    explanation: 'your account does not exist yet in the target directory.',
    advice:
      'no action is needed if your account was created recently; it is retried automatically. If this persists, contact the help desk.',
  },
  'policy-violation': {
    explanation: 'the target directory rejected the password because it does not meet its password policy (length, complexity or history).',
    advice: 'choose a new password that meets the password policy and change it again.',
  },
  'target-unavailable': {
    explanation: 'the target directory could not be reached.',
    advice: 'no action is needed: the change is retried automatically until the cached password expires.',
  },
  'target-error': {
    explanation: 'the target directory reported an unexpected error.',
    advice: 'contact the help desk if you cannot sign in with your new password.',
  },
};

function isSyncFailureReason(value: string | undefined): value is PasswordSyncFailureReason {
  return value !== undefined && value in SYNC_FAILURE_TEXT;
}

/** Placeholder values for one email: current recipient data plus what the causing event captured. */
export function emailValues(recipient: Recipient & { readonly email: string }, pending: PendingEmail): TemplateValues {
  const reason = pending.context.syncFailureReason;
  const text = isSyncFailureReason(reason) ? SYNC_FAILURE_TEXT[reason] : undefined;
  return {
    userId: recipient.userId,
    displayName: recipient.displayName ?? recipient.userId,
    email: recipient.email,
    emailType: pending.emailType,
    passwordOrigin: pending.context.passwordOrigin ?? '',
    syncFailureReason: reason ?? '',
    syncFailureExplanation: text?.explanation ?? '',
    syncFailureAdvice: text?.advice ?? '',
  };
}
