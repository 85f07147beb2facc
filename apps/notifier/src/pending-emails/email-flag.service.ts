import type { IdmEvent, IdmEventOf } from '@idm/contracts';
import type { EntityManager } from 'typeorm';
import type { OnceKey, OnceResult, Outbox, UnitOfWork } from '@idm/persistence';
import type { Clock } from '@idm/config';
import type { EmailRules } from '../email-rules/email-rules.config.js';
import { evolveRecipient } from '../recipients/recipient.decider.js';
import type { Recipient } from '../recipients/recipient.decider.js';
import type { RecipientRepository } from '../recipients/recipient.repository.js';
import { decideEmailFlags } from './email-flag.decider.js';
import { selectFlagState } from './flag-state.statements.js';
import type { PendingEmail } from './pending-email.js';
import type { PendingEmailRepository } from './pending-email.repository.js';
import { decideUserRemoval } from './user-removal.decider.js';

/** Where a delivery came from, for the inbox and stale-event checks. */
export interface Delivery {
  readonly consumer: string;
  readonly streamSequence: number;
}

/** Collaborators of {@link EmailFlagService}. */
export interface EmailFlagPorts {
  /** The app's exactly-once primitive (group commit); its relay publishes what is emitted here. */
  readonly outbox: Outbox<IdmEvent>;
  readonly recipients: RecipientRepository;
  readonly pendingEmails: PendingEmailRepository;
  readonly clock: Clock;
  readonly rules: EmailRules;
  readonly source: string;
}

/** One delivery handed to the batch. */
interface FlagInput {
  readonly event: IdmEvent;
  readonly delivery: Delivery;
}

/**
 * The shell around the recipient, flag and removal deciders: inbox skip → load → decide → save
 * recipients, flags, inbox rows and the `EmailQueued` / `EmailAbandoned` outbox rows in one
 * transaction → the relay publishes them. A redelivery after a crash is an inbox hit and does
 * nothing: whatever it emitted is already in the outbox or in the stream.
 *
 * Ingest speed (a bulk import is thousands of `UserAdded` a second): the deliveries that commit
 * together (group commit) are decided together, with set-based reads and writes — one query for the
 * recipients and the pending types, one upsert of each — instead of a handful per event. The
 * deciders still see one event at a time, in order, against the state the earlier ones left.
 */
export class EmailFlagService {
  private readonly submit: (key: OnceKey, input: FlagInput) => Promise<OnceResult<readonly IdmEvent[]>>;

  constructor(private readonly ports: EmailFlagPorts) {
    this.submit = ports.outbox.batched<FlagInput, readonly IdmEvent[]>((unit, inputs) => this.decideAll(unit, inputs));
  }

  /** Resolves after the commit with the events emitted (none for a duplicate); throws to be retried. */
  async handle(event: IdmEvent, delivery: Delivery): Promise<readonly IdmEvent[]> {
    const key = { consumer: delivery.consumer, eventId: event.id, streamSeq: delivery.streamSequence, lockKey: event.subject };
    const outcome = await this.submit(key, { event, delivery });
    return outcome.duplicate ? [] : outcome.result;
  }

  private async decideAll({ manager, emit }: UnitOfWork<IdmEvent>, inputs: readonly FlagInput[]): Promise<Array<readonly IdmEvent[]>> {
    const { recipients, pendingEmails, clock, rules, source } = this.ports;
    const userIds = inputs.map((i) => i.event.subject);
    const { recipients: known, pendingTypes } = await selectFlagState(manager, userIds);
    const recipientWrites = new Map<string, Recipient>();
    const flagWrites: PendingEmail[] = [];
    const flush = async (): Promise<void> => {
      await recipients.saveMany(manager, [...recipientWrites.values()]);
      recipientWrites.clear();
      await pendingEmails.saveMany(manager, flagWrites.splice(0));
    };
    const results: Array<readonly IdmEvent[]> = [];
    for (const { event, delivery } of inputs) {
      const userId = event.subject;
      if (event.type === 'idm.user.removed') {
        await flush(); // the removal reads the user's rows: they must hold what the earlier inputs decided
        results.push(await this.removal(manager, event));
        known.delete(userId);
        pendingTypes.delete(userId); // the removal cleared them: a later input of the batch may raise them anew
        continue;
      }
      if (event.type === 'idm.user.added' || event.type === 'idm.user.modified') {
        const decision = evolveRecipient(known.get(userId), event, delivery.streamSequence);
        if (decision.kind === 'save') {
          known.set(userId, decision.recipient);
          recipientWrites.set(userId, decision.recipient);
        }
      }
      const types = pendingTypes.get(userId) ?? new Set<string>();
      const decision = decideEmailFlags(event, { rules, pendingTypes: types, now: clock.now(), source });
      if (decision.kind === 'ignore') {
        results.push([]);
        continue;
      }
      for (const email of decision.emails) {
        flagWrites.push(email.pending);
        types.add(email.pending.emailType);
      }
      pendingTypes.set(userId, types);
      results.push(decision.emails.map((e) => e.event));
    }
    await flush();
    emit(results.flat());
    return results;
  }

  /**
   * `UserRemoved`: the recipient is deleted and the pending emails are abandoned, in the
   * transaction: each `EmailAbandoned` clears its flag (its evolve, as in replay) with the same
   * commit that emits it, as a tick's outcomes do; the notifier does not consume its own outcomes.
   */
  private async removal(manager: EntityManager, event: IdmEventOf<'idm.user.removed'>): Promise<readonly IdmEvent[]> {
    const { recipients, pendingEmails, clock, source } = this.ports;
    const decision = decideUserRemoval(event, await pendingEmails.allFor(manager, event.subject), { now: clock.now(), source });
    if (decision.forgetRecipient) await recipients.delete(manager, event.subject);
    await pendingEmails.deleteKeys(
      manager,
      decision.events.map((e) => e.data),
    );
    return decision.events;
  }
}
