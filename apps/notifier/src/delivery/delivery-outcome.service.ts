import type { EntityManager } from 'typeorm';
import type { IdmEvent } from '@idm/contracts';
import type { Outbox, UnitOfWork } from '@idm/persistence';
import type { PendingEmail, PendingEmailKey } from '../pending-emails/pending-email.js';
import { clearsFlag, evolvePendingEmail, type DeliveryEvent } from '../pending-emails/pending-email.evolve.js';
import { pendingKeyOf, type PendingEmailRepository } from '../pending-emails/pending-email.repository.js';

/** One email's outcome, as the tick run that sent (or abandoned) it stores it. */
export interface DeliveryOutcome {
  /** The email, as claimed. */
  readonly email: PendingEmailKey;
  /** The run's claim token: the outcome is stored only while the claim is still the run's. */
  readonly claimToken: string;
  /** `EmailSent`, `EmailFailed`, `EmailFailed` + `EmailAbandoned`, or `EmailAbandoned`, in order. */
  readonly events: readonly DeliveryEvent[];
}

/**
 * What storing an outcome came to: `stored` (flag changed and events emitted, one commit), or
 * `claim-lost` (another run holds the email now: nothing written, nothing emitted).
 */
export type StoredOutcome = 'stored' | 'claim-lost';

/**
 * How long a failed commit of an outcome is retried before the tick fails: the email is already
 * sent, so storing its outcome a few seconds late (a database restart, a failover) beats failing
 * the tick and sending it again. Any error is retried (a lasting one only delays the failure).
 */
export const STORE_RETRY_MS = 15_000;
/** Waits between those retries: doubling from the first, capped by the last. */
const RETRY_DELAYS_MS = { first: 100, max: 2_000 };

/**
 * Stores the outcomes of a tick's sends: each email's change to `pending_email` (the evolve of its
 * `EmailSent` / `EmailFailed` / `EmailAbandoned`) and those events, as outbox rows, in ONE
 * transaction; the outbox relay then publishes them with their deterministic ids. This — not the
 * send — is where a flag is cleared, and the event that says so is written with the change, so
 * the stream holds exactly the outcomes that were applied and a replay of it rebuilds the same
 * table. The notifier therefore does not consume its own outcome events.
 *
 * Outcomes finish one by one at the send rate; the app's {@link Outbox} commits those that finish
 * together in one transaction (group commit: one fsync on SQLite) and hands them here together
 * ({@link Outbox.batchedRun}). An outcome that clears its flag (`EmailSent`, `EmailAbandoned`) —
 * nearly all of them — needs nothing of its row but its claim, so those are one DELETE of the rows
 * still claimed by their run's token, which returns the keys it deleted. The others (`EmailFailed`
 * keeps the flag and counts the attempt; an email listed twice; a cleared row that was not
 * deleted) take one locked read of their rows, then one DELETE of the flags they clear and one
 * upsert of those they keep. There is no inbox row: the input is not a delivery but the run's
 * own result, submitted once.
 *
 * The claim check, per email, under the row lock: the claim still carries the run's token → apply
 * and emit; the row is gone (a `UserRemoved` abandoned it, or another run sent it after taking the
 * claim over and stored first) → emit only, the evolve of an absent row changes nothing, live as in
 * replay; another token or none → `claim-lost`, nothing is written: the claim was taken over (this
 * instance was thought dead), and the new owner sends the email again with the same Message-ID and
 * stores its own outcome (the at-least-once case of a crash).
 */
export class DeliveryOutcomeService {
  private readonly submit: (outcome: DeliveryOutcome, lockKey: string) => Promise<StoredOutcome>;

  /** `retryMs`: how long a failed commit is retried ({@link STORE_RETRY_MS}; specs pass 0). */
  constructor(
    outbox: Outbox<IdmEvent>,
    private readonly pendingEmails: PendingEmailRepository,
    private readonly retryMs = STORE_RETRY_MS,
  ) {
    this.submit = outbox.batchedRun((unit, outcomes: readonly DeliveryOutcome[]) => this.storeAll(unit, outcomes));
  }

  /**
   * Resolves after the commit that holds the outcome. A failed commit (nothing written) is
   * retried for `retryMs`; then the last error rejects, and the tick fails.
   */
  async store(outcome: DeliveryOutcome): Promise<StoredOutcome> {
    const giveUpAt = Date.now() + this.retryMs;
    for (let delay = RETRY_DELAYS_MS.first; ; delay = Math.min(delay * 2, RETRY_DELAYS_MS.max)) {
      try {
        return await this.submit(outcome, outcome.email.userId);
      } catch (error) {
        if (Date.now() + delay > giveUpAt) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async storeAll({ manager, emit }: UnitOfWork<IdmEvent>, outcomes: readonly DeliveryOutcome[]): Promise<StoredOutcome[]> {
    const deleted = await this.deleteCleared(manager, outcomes);
    const rest = outcomes.filter((o) => !deleted.has(pendingKeyOf(o.email)));
    const rows = await this.pendingEmails.findMany(
      manager,
      rest.map((o) => o.email),
      true,
    );
    const touched = new Map<string, { readonly key: PendingEmailKey; state: PendingEmail | undefined }>();
    const results = outcomes.map((outcome): StoredOutcome => {
      const key = pendingKeyOf(outcome.email);
      if (deleted.has(key)) {
        emit(outcome.events);
        return 'stored';
      }
      let state = rows.get(key);
      if (state && state.claimToken !== outcome.claimToken) return 'claim-lost';
      for (const event of outcome.events) {
        const change = evolvePendingEmail(state, event);
        if (change.kind === 'delete') state = undefined;
        if (change.kind === 'save') state = change.pending;
      }
      if (rows.has(key)) touched.set(key, { key: outcome.email, state });
      if (state) rows.set(key, state);
      else rows.delete(key);
      emit(outcome.events);
      return 'stored';
    });
    const cleared = [...touched.values()].filter((t) => t.state === undefined).map((t) => t.key);
    const kept = [...touched.values()].flatMap((t) => (t.state ? [t.state] : []));
    await this.pendingEmails.deleteKeys(manager, cleared);
    await this.pendingEmails.saveMany(manager, kept);
    return results;
  }

  /**
   * Deletes, in one statement, the rows of the outcomes that clear their flag whatever the row
   * holds (one of their events is `EmailSent` / `EmailAbandoned`: the evolve of a claimed row then
   * ends in `delete`), where the row still carries the outcome's claim; returns the keys deleted.
   * An email listed twice in the batch is left to the read, which applies its outcomes in order.
   */
  private async deleteCleared(manager: EntityManager, outcomes: readonly DeliveryOutcome[]): Promise<Set<string>> {
    const keys = outcomes.map((o) => pendingKeyOf(o.email));
    const listed = new Map<string, number>();
    for (const key of keys) listed.set(key, (listed.get(key) ?? 0) + 1);
    const clearing = outcomes.filter((o, i) => o.events.some(clearsFlag) && listed.get(keys[i]!) === 1);
    const deleted = await this.pendingEmails.deleteClaimed(
      manager,
      clearing.map((o) => ({ userId: o.email.userId, emailType: o.email.emailType, claimToken: o.claimToken })),
    );
    return new Set(deleted.map(pendingKeyOf));
  }
}
