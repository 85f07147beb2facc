import type { ReceivedMail, SmtpModeSetting } from './received-mail.js';

/** Parent → SMTP child requests over the fork IPC channel. */
export type SmtpRequest =
  | { readonly id: number; readonly op: 'setMode'; readonly setting: SmtpModeSetting }
  | { readonly id: number; readonly op: 'messages' }
  | { readonly id: number; readonly op: 'clear' };

/** SMTP child → parent messages. */
export type SmtpChildMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'reply'; readonly id: number; readonly messages?: readonly ReceivedMail[]; readonly error?: string };
