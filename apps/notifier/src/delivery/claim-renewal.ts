import type { PendingEmail } from '../pending-emails/pending-email.js';

/** Renews a run's claims on several emails in one statement; true only when every one was still the run's. */
export type RenewClaims = (emails: readonly PendingEmail[], now: Date) => Promise<boolean>;

/**
 * Renews a run's claims ahead of its send lanes, a block of emails per statement, instead of one
 * statement per email or per lane page: the lanes take emails one by one from the claimed list
 * (in order, so no lane idles while another still holds a page), and the lane that first reaches
 * an email past the current block renews the next block for everyone.
 *
 * A block renewal covers an email only for `maxAgeMs` (slow SMTP): an email taken later starts a
 * new block from itself. When a block's renewal reports a lost claim, {@link covered} resolves
 * false for its emails and the caller must renew (or skip) each of them on its own.
 */
export class ClaimRenewal {
  private block: { readonly start: number; readonly end: number; readonly at: number; readonly renewed: Promise<boolean> } | undefined;

  constructor(
    private readonly claimed: readonly PendingEmail[],
    private readonly renew: RenewClaims,
    private readonly blockSize: number,
    private readonly maxAgeMs: number,
  ) {}

  /**
   * Resolves true when the claim on email `index` was renewed, with its block, at most `maxAgeMs`
   * ago; false when its block lost a claim. Call in increasing index order, right before the send.
   * @throws the database error of the block's renewal.
   */
  covered(index: number, now: Date): Promise<boolean> {
    const b = this.block;
    if (!b || index < b.start || index >= b.end || now.getTime() - b.at > this.maxAgeMs) {
      const end = Math.min(this.claimed.length, index + this.blockSize);
      this.block = { start: index, end, at: now.getTime(), renewed: this.renew(this.claimed.slice(index, end), now) };
    }
    return this.block!.renewed;
  }
}
