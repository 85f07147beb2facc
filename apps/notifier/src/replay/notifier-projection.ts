import { In, type DataSource, type EntityManager } from 'typeorm';
import { advanceCheckpoint, ProjectionCheckpoint, runInTransaction } from '@idm/persistence';
import type { Projection } from '@idm/messaging';
import { PendingEmailEntity } from '../pending-emails/pending-email.entity.js';
import type { PendingEmail, PendingEmailKey } from '../pending-emails/pending-email.js';
import { selectPendingOfUsers } from '../pending-emails/pending-email-keys.statements.js';
import { PendingEmailRepository } from '../pending-emails/pending-email.repository.js';
import { upsertPendingEmails } from '../pending-emails/pending-email.statements.js';
import { RecipientEntity } from '../recipients/recipient.entity.js';
import type { Recipient } from '../recipients/recipient.decider.js';
import { selectRecipients, upsertRecipients } from '../recipients/recipient.statements.js';
import {
  causeContextOf,
  EMPTY_USER_STATE,
  evolveNotifierUser,
  notifierUserOf,
  type NotifierUserState,
} from './notifier-projection.evolve.js';

/** The checkpoint name of the notifier's projections. */
export const NOTIFIER_PROJECTION = 'notifier';

const WRITE_CHUNK = 1000;

const pendingEmails = new PendingEmailRepository();

/** Per user: the state, and what the database holds for it (to write only the difference). */
export interface NotifierSlot {
  state: NotifierUserState;
  storedRecipient: Recipient | undefined;
  storedTypes: Set<string>;
}

/**
 * The notifier's `recipient` and `pending_email` tables as a projection of the log, for
 * `replayProjection`: the pure {@link evolveNotifierUser} per user, and the row mapping. Nothing is
 * sent, nothing appended: flags follow the `EmailQueued` / `EmailSent` / `EmailFailed` /
 * `EmailAbandoned` already in the log. A full replay first empties the two tables; a partial one
 * continues from the rows present. Claims (`claimed_*`) are not in the log and come back empty:
 * run the replay with the notifier stopped.
 */
export function notifierProjection(dataSource: DataSource): Projection<NotifierSlot> {
  // Template contexts of causing events, by event id: `EmailQueued` names its cause, not the cause's data.
  const contexts = new Map<string, Readonly<Record<string, string>>>();
  return {
    app: 'notifier',
    keyOf: notifierUserOf,
    observe(event) {
      const context = causeContextOf(event);
      if (context) contexts.set(event.id, context);
    },
    // A full replay starts from empty tables: nothing to read back.
    load: (users, fromNothing) => loadSlots(dataSource, users, fromNothing),
    evolve(slot, event, seq) {
      const next = evolveNotifierUser(slot.state, event, seq, contexts);
      return next === slot.state ? slot : { ...slot, state: next };
    },
    write: (changed, seq) => runInTransaction(dataSource, (m) => flush(m, changed, seq)),
    reset: () =>
      runInTransaction(dataSource, async (m) => {
        await m.createQueryBuilder().delete().from(PendingEmailEntity).execute();
        await m.createQueryBuilder().delete().from(RecipientEntity).execute();
        await m.getRepository(ProjectionCheckpoint).delete({ projection: NOTIFIER_PROJECTION });
      }),
    rows: async (slots, dryRun) => ({
      recipient: dryRun ? countRecipients(slots) : await dataSource.getRepository(RecipientEntity).count(),
      pending_email: dryRun ? countPending(slots) : await dataSource.getRepository(PendingEmailEntity).count(),
    }),
  };
}

function countRecipients(slots: ReadonlyMap<string, NotifierSlot>): number {
  let n = 0;
  for (const s of slots.values()) if (s.state.recipient) n += 1;
  return n;
}

function countPending(slots: ReadonlyMap<string, NotifierSlot>): number {
  let n = 0;
  for (const s of slots.values()) n += s.state.pending.size;
  return n;
}

async function loadSlots(dataSource: DataSource, users: readonly string[], empty: boolean): Promise<Map<string, NotifierSlot>> {
  const slots = new Map<string, NotifierSlot>();
  if (empty) {
    for (const u of users) slots.set(u, { state: EMPTY_USER_STATE, storedRecipient: undefined, storedTypes: new Set() });
    return slots;
  }
  for (let i = 0; i < users.length; i += WRITE_CHUNK) {
    const chunk = users.slice(i, i + WRITE_CHUNK);
    const recipients = await selectRecipients(dataSource, chunk);
    const pendings = await selectPendingOfUsers(dataSource, chunk);
    for (const u of chunk) slots.set(u, { state: EMPTY_USER_STATE, storedRecipient: undefined, storedTypes: new Set() });
    for (const recipient of recipients.values()) {
      const slot = slots.get(recipient.userId)!;
      slot.state = { ...slot.state, recipient };
      slot.storedRecipient = recipient;
    }
    for (const pending of pendings) {
      const slot = slots.get(pending.userId)!;
      slot.state = { ...slot.state, pending: new Map(slot.state.pending).set(pending.emailType, pending) };
      slot.storedTypes.add(pending.emailType);
    }
  }
  return slots;
}

/**
 * Writes the changed users' rows (recipients deleted and upserted, then pending emails deleted and
 * upserted) and the checkpoint, in the caller's transaction, through the statements the live notifier writes with (its ingest's and outcomes'
 * set-based upserts, its keyed delete), so a replayed row is written the way a live one is.
 */
async function flush(m: EntityManager, changed: ReadonlyMap<string, NotifierSlot>, seq: number): Promise<void> {
  const recipients: Recipient[] = [];
  const pendings: PendingEmail[] = [];
  const deletes: PendingEmailKey[] = [];
  // Users whose UserRemoved was replayed: their stored recipient row goes.
  const forgotten: string[] = [];
  for (const [user, slot] of changed) {
    const { recipient, pending } = slot.state;
    if (recipient && recipient !== slot.storedRecipient) recipients.push(recipient);
    if (!recipient && slot.storedRecipient) forgotten.push(user);
    for (const type of slot.storedTypes) if (!pending.has(type)) deletes.push({ userId: user, emailType: type });
    pendings.push(...pending.values());
    slot.storedRecipient = recipient;
    slot.storedTypes = new Set(pending.keys());
  }
  for (let i = 0; i < forgotten.length; i += WRITE_CHUNK)
    await m.getRepository(RecipientEntity).delete({ userId: In(forgotten.slice(i, i + WRITE_CHUNK)) });
  await upsertRecipients(m, recipients);
  await pendingEmails.deleteKeys(m, deletes);
  await upsertPendingEmails(m, pendings);
  await advanceCheckpoint(m, NOTIFIER_PROJECTION, seq);
}
