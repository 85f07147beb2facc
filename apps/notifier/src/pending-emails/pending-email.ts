/**
 * One pending email: the flag (user, email type) of the recipe, plus what delivery needs.
 * Several types per user live side by side; the same type raised twice stays one row.
 */
export interface PendingEmail {
  readonly userId: string;
  readonly emailType: string;
  /** Id of the `EmailQueued` event; the Message-ID is derived from it so a resend is recognisable. */
  readonly queuedEventId: string;
  readonly queuedAt: Date;
  /** When the flag was first raised; the age limit counts from here. */
  readonly firstQueuedAt: Date;
  /** Send attempts made so far (from applied `EmailFailed`). */
  readonly attempts: number;
  readonly lastError: string | null;
  /** The tick that claimed this email (the recipe's bulk-task indicator), null when unclaimed. */
  readonly claimedTick: string | null;
  readonly claimedAt: Date | null;
  /** Random token of the claiming run, so a redelivered tick never mistakes another run's claims for its own. */
  readonly claimToken: string | null;
  /** Template values captured from the causing event (e.g. why a password sync failed). */
  readonly context: Readonly<Record<string, string>>;
}

/** The primary key of a pending email. */
export interface PendingEmailKey {
  readonly userId: string;
  readonly emailType: string;
}

/**
 * A flag just raised by `EmailQueued` `queuedEventId` at `at`: no attempt yet, unclaimed. The one
 * shape both the live decider and the replay's evolve write, so a rebuilt row equals the live one.
 */
export function newlyQueuedEmail(flag: {
  readonly userId: string;
  readonly emailType: string;
  readonly queuedEventId: string;
  readonly at: Date;
  readonly context: Readonly<Record<string, string>>;
}): PendingEmail {
  return {
    userId: flag.userId,
    emailType: flag.emailType,
    queuedEventId: flag.queuedEventId,
    queuedAt: flag.at,
    firstQueuedAt: flag.at,
    attempts: 0,
    lastError: null,
    claimedTick: null,
    claimedAt: null,
    claimToken: null,
    context: flag.context,
  };
}
