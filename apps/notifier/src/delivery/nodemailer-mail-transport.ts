import nodemailer from 'nodemailer';
import type { Transporter, SMTPPoolOptions, SMTPPoolSentMessageInfo } from 'nodemailer';
import { MailTransport, type OutgoingEmail, type SendResult } from './mail-transport.js';
import { RawMessageComposer } from './raw-message.js';
import { classifyRejectedRecipients, classifySmtpFailure } from './smtp-failure.js';
import { parseSender, type Mailbox, type SmtpSettings } from './smtp-settings.js';

/**
 * {@link MailTransport} over a nodemailer SMTP pool (nodemailer 10).
 *
 * - Pooled: up to `maxConnections` connections; the tick's send concurrency should match it.
 * - Every wait has a timeout (connect, greeting, socket), so a dead server fails the send
 *   instead of hanging the tick.
 * - `maxRequeues: 1`: a message whose pooled connection dropped is tried once more on a fresh
 *   connection (idle connections closed by the server), then reported; the next tick retries,
 *   bounded by our own attempt/age limits. Never unlimited.
 * - Certificates are verified unless explicitly disabled.
 * - No nodemailer logging: its debug output could contain the AUTH exchange.
 * - Sender and recipient are handed over as parsed mailboxes: nodemailer then skips its address
 *   parser, which ran twice per email on the strings (headers and envelope).
 * - Composed by {@link RawMessageComposer} into the message MailComposer would build and handed
 *   over ready (`raw` with its `envelope`): MailComposer's tree of streams cost more CPU per email
 *   than the rest of the send. Emails it does not compose (unusual addresses, a missing part) go
 *   through MailComposer.
 */
export class NodemailerMailTransport extends MailTransport {
  private readonly transporter: Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;
  private readonly secrets: readonly string[];
  private readonly sender: Mailbox;
  private readonly composer: RawMessageComposer;

  constructor(private readonly settings: SmtpSettings) {
    super();
    this.secrets = settings.auth ? [settings.auth.pass, settings.auth.user] : [];
    this.sender = parseSender(settings.from);
    this.composer = new RawMessageComposer(this.sender);
    this.transporter = nodemailer.createTransport({
      pool: true,
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      ...(settings.auth ? { auth: { user: settings.auth.user, pass: settings.auth.pass } } : {}),
      maxConnections: settings.maxConnections,
      maxMessages: 100,
      maxRequeues: 1,
      connectionTimeout: settings.connectionTimeoutMs,
      greetingTimeout: settings.greetingTimeoutMs,
      socketTimeout: settings.socketTimeoutMs,
      tls: { rejectUnauthorized: settings.rejectUnauthorized, minVersion: 'TLSv1.2' },
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
      debug: false,
    });
  }

  override async send(email: OutgoingEmail): Promise<SendResult> {
    try {
      const composed = this.composer.compose(email);
      const info = await this.transporter.sendMail(
        composed
          ? { raw: composed.raw, envelope: { from: composed.envelope.from, to: [...composed.envelope.to] }, messageId: email.messageId }
          : {
              from: this.sender,
              to: { name: '', address: email.to },
              subject: email.subject,
              html: email.html,
              text: email.text,
              messageId: email.messageId,
            },
      );
      if (info.rejected.length > 0) return { ok: false, failure: classifyRejectedRecipients(info.rejected, info.response, this.secrets) };
      return { ok: true, messageId: info.messageId, response: info.response };
    } catch (error) {
      return { ok: false, failure: classifySmtpFailure(error, this.secrets) };
    }
  }

  override async close(): Promise<void> {
    this.transporter.close();
  }
}
