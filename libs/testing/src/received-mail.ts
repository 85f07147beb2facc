/** A message the test SMTP server accepted. */
export interface ReceivedMail {
  /** SMTP envelope sender (`MAIL FROM`). */
  readonly from: string;
  /** SMTP envelope recipients that were accepted (`RCPT TO`). */
  readonly to: readonly string[];
  /** The whole message as received (headers + body), UTF-8. */
  readonly raw: string;
  /** `Subject` header, encoded-words decoded. */
  readonly subject?: string;
  /** `Message-ID` header, angle brackets included as sent. */
  readonly messageId?: string;
  /** Header name (lower-case) → raw value of its first occurrence, unfolded. */
  readonly headers: Readonly<Record<string, string>>;
  /** The text/plain body (transfer encoding decoded), when there is one. */
  readonly text?: string;
  /** The text/html body (transfer encoding decoded), when there is one. */
  readonly html?: string;
  /** When the server received it (ISO-8601). */
  readonly receivedAt: string;
}

/** What a test SMTP server does with incoming mail; see {@link SmtpServerHandle.setMode}. */
export type SmtpMode = 'accept' | 'tempfail' | 'reject' | 'drop';

/** The SMTP stage at which `tempfail` answers or `drop` cuts the connection. */
export type SmtpStage = 'connect' | 'mail' | 'rcpt' | 'data';

/** Options of a mode. */
export interface SmtpModeOptions {
  /**
   * `reject`: recipients answered with 550 (case-insensitive); others are accepted.
   * Omitted or empty: every recipient is rejected.
   */
  readonly rejectRecipients?: readonly string[];
  /**
   * `tempfail`: where the 4xx comes — `connect` answers 421 to the greeting, the others 451
   * (default `mail`). `drop`: where the connection is destroyed (default `data`, i.e. after the
   * whole message was received but before the reply — the "did it go out?" case).
   */
  readonly stage?: SmtpStage;
}

/** A mode with its options, as sent to the SMTP child process. */
export interface SmtpModeSetting extends SmtpModeOptions {
  readonly mode: SmtpMode;
}
