import { redactConnectionString } from '@idm/config';
import { z } from 'zod';

/** `SMTP_URL` or `MAIL_FROM` is unusable. The message never contains the URL's credentials. */
export class SmtpConfigError extends Error {
  override readonly name = 'SmtpConfigError';
  readonly code = 'IDM_NOTIFIER_SMTP_CONFIG_INVALID';
}

/** Where and how to reach the mail server, parsed from `SMTP_URL`. */
export interface SmtpEndpoint {
  readonly host: string;
  readonly port: number;
  /** `smtps://`: TLS from the first byte (usually port 465). `smtp://` upgrades with STARTTLS when offered. */
  readonly secure: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** The URL with its password replaced by `***`, safe for logs. */
  readonly safeUrl: string;
}

/** Everything the nodemailer transport needs. */
export interface SmtpSettings extends SmtpEndpoint {
  readonly from: string;
  /** Verify the server certificate (default). Only `SMTP_TLS_REJECT_UNAUTHORIZED=false` turns it off. */
  readonly rejectUnauthorized: boolean;
  readonly maxConnections: number;
  readonly connectionTimeoutMs: number;
  readonly greetingTimeoutMs: number;
  readonly socketTimeoutMs: number;
}

/**
 * Parses `smtp://[user:pass@]host[:port]` or `smtps://…`. User and password are percent-decoded.
 * @throws SmtpConfigError naming the problem, with the credentials redacted.
 */
export function parseSmtpUrl(raw: string): SmtpEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SmtpConfigError('SMTP_URL is not a URL (expected smtp://user:pass@host:port or smtps://…)');
  }
  const safeUrl = redactConnectionString(url.href);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new SmtpConfigError(`SMTP_URL must start with smtp:// or smtps:// (got ${safeUrl})`);
  if (!url.hostname) throw new SmtpConfigError(`SMTP_URL has no host (got ${safeUrl})`);
  const secure = url.protocol === 'smtps:';
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  if (url.search || (url.pathname && url.pathname !== '/'))
    throw new SmtpConfigError(`SMTP_URL must not carry a path or query; use the SMTP_* variables for options (got ${safeUrl})`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, secure, ...(user ? { auth: { user, pass } } : {}), safeUrl };
}

const address = z.email();

/** A parsed mailbox, in the shape nodemailer takes without running its address parser again. */
export interface Mailbox {
  /** The display name, `''` when there is none. */
  readonly name: string;
  readonly address: string;
}

/**
 * Validates `MAIL_FROM`: `noreply@example.com` or `IDM <noreply@example.com>`.
 * @returns the display name (`''` if none) and the bare address.
 * @throws SmtpConfigError when it is not an address.
 */
export function parseSender(raw: string): Mailbox {
  const match = /^\s*(?:"?([^"<>]*?)"?\s*<([^<>]+)>|([^\s<>]+))\s*$/.exec(raw);
  const addr = match?.[2] ?? match?.[3];
  if (!addr || !address.safeParse(addr).success)
    throw new SmtpConfigError(
      `MAIL_FROM must be an address like noreply@example.com or "IDM <noreply@example.com>" (got ${JSON.stringify(raw)})`,
    );
  return { name: (match?.[1] ?? '').trim(), address: addr };
}

/**
 * Validates `MAIL_FROM` ({@link parseSender}).
 * @returns the bare address part.
 * @throws SmtpConfigError when it is not an address.
 */
export function parseMailFrom(raw: string): string {
  return parseSender(raw).address;
}

/** The domain used in Message-IDs: the sender's domain. */
export function mailDomainOf(from: string): string {
  return parseMailFrom(from).split('@')[1]!;
}

/** The stable Message-ID of a queued email: resends of one queued email carry the same id. */
export function messageIdFor(queuedEventId: string, from: string): string {
  return messageIdsFrom(from)(queuedEventId);
}

/** {@link messageIdFor} with the sender's domain parsed once, for the many emails of a tick. */
export function messageIdsFrom(from: string): (queuedEventId: string) => string {
  const domain = mailDomainOf(from);
  return (queuedEventId) => `<${queuedEventId}@${domain}>`;
}
