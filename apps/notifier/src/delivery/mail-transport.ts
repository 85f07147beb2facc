import type { SmtpFailure } from './smtp-failure.js';

/** One email for one recipient, rendered. */
export interface OutgoingEmail {
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** Full Message-ID header value with angle brackets; stable per queued email so a resend is a recognisable duplicate. */
  readonly messageId: string;
}

/** What became of one send; SMTP failures are values, classified, never thrown. */
export type SendResult =
  { readonly ok: true; readonly messageId: string; readonly response: string } | { readonly ok: false; readonly failure: SmtpFailure };

/**
 * The port to the mail server (a DI token; specs use a real SMTP server behind the nodemailer
 * implementation). `send` resolves with a classified failure instead of rejecting.
 */
export abstract class MailTransport {
  /** Sends one email; resolves when the server accepted or refused it, or the attempt failed. */
  abstract send(email: OutgoingEmail): Promise<SendResult>;
  /** Closes pooled connections. */
  abstract close(): Promise<void>;
}
