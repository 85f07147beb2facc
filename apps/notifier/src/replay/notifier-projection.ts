import { Brackets, In, type DataSource, type EntityManager } from 'typeorm';
import { advanceCheckpoint, ProjectionCheckpoint, runInTransaction, upsertInChunks } from '@idm/persistence';
import type { Projection } from '@idm/messaging';
import { PendingEmailEntity } from '../pending-emails/pending-email.entity.js';
import type { PendingEmail } from '../pending-emails/pending-email.js';
import { RecipientEntity } from '../recipients/recipient.entity.js';
import type { Recipient } from '../recipients/recipient.decider.js';
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
    const recipients = await dataSource.getRepository(RecipientEntity).findBy({ userId: In(chunk) });
    const pendings = await dataSource.getRepository(PendingEmailEntity).findBy({ userId: In(chunk) });
    for (const u of chunk) slots.set(u, { state: EMPTY_USER_STATE, storedRecipient: undefined, storedTypes: new Set() });
    for (const r of recipients) {
      const slot = slots.get(r.userId)!;
      const recipient: Recipient = { userId: r.userId, email: r.email, displayName: r.displayName, updatedSeq: r.updatedSeq };
      slot.state = { ...slot.state, recipient };
      slot.storedRecipient = recipient;
    }
    for (const p of pendings) {
      const slot = slots.get(p.userId)!;
      const pending: PendingEmail = { ...p, context: JSON.parse(p.context) as Record<string, string> };
      slot.state = { ...slot.state, pending: new Map(slot.state.pending).set(p.emailType, pending) };
      slot.storedTypes.add(p.emailType);
    }
  }
  return slots;
}

/** Writes the changed users' rows — upserts and deletes in chunks — and the checkpoint, in the caller's transaction. */
async function flush(m: EntityManager, changed: ReadonlyMap<string, NotifierSlot>, seq: number): Promise<void> {
  const recipients: RecipientEntity[] = [];
  const pendings: PendingEmailEntity[] = [];
  const deletes: Array<[string, string]> = [];
  // Users whose UserRemoved was replayed: their stored recipient row goes.
  const forgotten: string[] = [];
  for (const [user, slot] of changed) {
    const { recipient, pending } = slot.state;
    if (recipient && recipient !== slot.storedRecipient) recipients.push(Object.assign(new RecipientEntity(), recipient));
    if (!recipient && slot.storedRecipient) forgotten.push(user);
    for (const type of slot.storedTypes) if (!pending.has(type)) deletes.push([user, type]);
    for (const p of pending.values()) pendings.push(Object.assign(new PendingEmailEntity(), { ...p, context: JSON.stringify(p.context) }));
    slot.storedRecipient = recipient;
    slot.storedTypes = new Set(pending.keys());
  }
  for (let i = 0; i < forgotten.length; i += WRITE_CHUNK)
    await m.getRepository(RecipientEntity).delete({ userId: In(forgotten.slice(i, i + WRITE_CHUNK)) });
  if (m.connection.options.type === 'postgres') await writePostgres(m, recipients, deletes, pendings);
  else await writePortable(m, recipients, deletes, pendings);
  await advanceCheckpoint(m, NOTIFIER_PROJECTION, seq);
}

/** SQLite (and any other engine): TypeORM's multi-row upserts and OR-ed deletes, in chunks. */
async function writePortable(
  m: EntityManager,
  recipients: readonly RecipientEntity[],
  deletes: ReadonlyArray<[string, string]>,
  pendings: readonly PendingEmailEntity[],
): Promise<void> {
  await upsertInChunks(m, RecipientEntity, recipients, {
    update: ['email', 'display_name', 'updated_seq'],
    conflict: ['user_id'],
    chunk: WRITE_CHUNK,
  });
  for (let i = 0; i < deletes.length; i += WRITE_CHUNK) {
    const chunk = deletes.slice(i, i + WRITE_CHUNK);
    await m
      .createQueryBuilder()
      .delete()
      .from(PendingEmailEntity)
      .where(
        new Brackets((qb) => {
          chunk.forEach(([u, t], j) => qb.orWhere(`(user_id = :u${j} AND email_type = :t${j})`, { [`u${j}`]: u, [`t${j}`]: t }));
        }),
      )
      .execute();
  }
  await upsertInChunks(m, PendingEmailEntity, pendings, {
    update: [
      'queued_event_id',
      'queued_at',
      'first_queued_at',
      'attempts',
      'last_error',
      'claimed_tick',
      'claimed_at',
      'claim_token',
      'context',
    ],
    conflict: ['user_id', 'email_type'],
    chunk: WRITE_CHUNK / 2,
  });
}

/** What the timestamp columns' transformer writes for a value. */
const isoOf = (value: Date | null): string | null => (value instanceof Date ? value.toISOString() : value);

/**
 * Postgres: one statement per table and batch, the rows passed as one array parameter per column
 * and expanded with `unnest`. Building TypeORM's multi-row statements cost more than the database
 * work. Same values as {@link writePortable}: timestamps as `toISOString()` (the columns'
 * transformer), `bigint` as numbers; the tables are found through the connection's `search_path`.
 */
async function writePostgres(
  m: EntityManager,
  recipients: readonly RecipientEntity[],
  deletes: ReadonlyArray<[string, string]>,
  pendings: readonly PendingEmailEntity[],
): Promise<void> {
  if (recipients.length > 0) {
    await m.query(
      `INSERT INTO recipient (user_id, email, display_name, updated_seq)
       SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::bigint[])
       ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, display_name = EXCLUDED.display_name, updated_seq = EXCLUDED.updated_seq`,
      [
        recipients.map((r) => r.userId),
        recipients.map((r) => r.email),
        recipients.map((r) => r.displayName),
        recipients.map((r) => r.updatedSeq),
      ],
    );
  }
  if (deletes.length > 0) {
    await m.query(
      `DELETE FROM pending_email p USING unnest($1::varchar[], $2::varchar[]) AS d(user_id, email_type)
       WHERE p.user_id = d.user_id AND p.email_type = d.email_type`,
      [deletes.map(([u]) => u), deletes.map(([, t]) => t)],
    );
  }
  if (pendings.length > 0) {
    await m.query(
      `INSERT INTO pending_email (user_id, email_type, queued_event_id, queued_at, first_queued_at, attempts, last_error, claimed_tick, claimed_at, claim_token, context)
       SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::integer[], $7::text[], $8::varchar[], $9::varchar[], $10::varchar[], $11::text[])
       ON CONFLICT (user_id, email_type) DO UPDATE SET queued_event_id = EXCLUDED.queued_event_id, queued_at = EXCLUDED.queued_at,
         first_queued_at = EXCLUDED.first_queued_at, attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, claimed_tick = EXCLUDED.claimed_tick,
         claimed_at = EXCLUDED.claimed_at, claim_token = EXCLUDED.claim_token, context = EXCLUDED.context`,
      [
        pendings.map((p) => p.userId),
        pendings.map((p) => p.emailType),
        pendings.map((p) => p.queuedEventId),
        pendings.map((p) => isoOf(p.queuedAt)),
        pendings.map((p) => isoOf(p.firstQueuedAt)),
        pendings.map((p) => p.attempts),
        pendings.map((p) => p.lastError),
        pendings.map((p) => p.claimedTick),
        pendings.map((p) => isoOf(p.claimedAt)),
        pendings.map((p) => p.claimToken),
        pendings.map((p) => p.context),
      ],
    );
  }
}
