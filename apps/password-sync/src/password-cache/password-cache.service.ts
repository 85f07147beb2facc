import type { DataSource, EntityManager } from 'typeorm';
import {
  createEvent,
  deriveEventId,
  EventTypes,
  newEventId,
  type IdmEvent,
  type IdmEventOf,
  type PasswordChangeRequest,
} from '@idm/contracts';
import { Inbox, type Outbox, type UnitOfWork } from '@idm/persistence';
import type { ExpirationPolicy } from '../expiry/expiration-policy.js';
import type { Clock } from '@idm/config';
import type { PasswordTarget } from '../targets/password-target.js';
import {
  decide,
  type PasswordCacheDecision,
  type PasswordCacheInput,
  type PasswordCacheState,
  type PendingPasswordEvent,
} from './password-cache.decider.js';
import type { CachedHealth, PasswordCacheRepository, SaveOutcome } from './password-cache.repository.js';
import { SecretKeyMismatchError, SecretTamperedError, type PasswordSealer, type SealedSecret } from './sealed-secret.js';

/** What the service logs; Nest's `Logger` fits. Nothing passed here ever contains a password. */
export interface ServiceLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Collaborators of {@link PasswordCacheService}. */
export interface PasswordCacheServiceDeps {
  readonly dataSource: DataSource;
  readonly repository: PasswordCacheRepository;
  readonly sealer: PasswordSealer;
  readonly target: PasswordTarget;
  /**
   * Where state, inbox rows and events commit together (group commit is its option); its relay
   * publishes the events after the commit.
   */
  readonly outbox: Outbox<IdmEvent>;
  readonly clock: Clock;
  readonly policy: Pick<ExpirationPolicy, 'minutes'>;
  readonly logger: ServiceLogger;
  /** Inbox consumer name for user events. */
  readonly consumer: string;
  /**
   * How long after acceptance a password with no recorded attempt is attempted by the sweeper
   * (its first attempt never ran or its outcome was lost in a crash). Longer than a first attempt
   * can take elsewhere (target timeout, queueing), so a live attempt is not repeated. Default 30 s.
   */
  readonly firstAttemptGraceMs?: number;
}

/** Result of one sweep. */
export interface SweepReport {
  readonly expired: number;
  readonly retried: number;
  /** Accepted passwords with no recorded attempt, attempted now (after a crash). */
  readonly recovered: number;
}

/** Result of one re-seal pass (see {@link PasswordCacheService.resealBatch}). */
export interface ResealReport {
  /** Rows moved onto the current key. */
  readonly resealed: number;
  /** Rows that could not be opened (tampered); left as they are, discarded on their next attempt. */
  readonly failed: number;
  /** Whether more rows under a previous key may be left (the batch was full). */
  readonly more: boolean;
}

/** Which keys sealed the cached passwords: key ids only (short hashes), never key material. */
export interface KeyUsage {
  /** Id of the current key. */
  readonly current: string;
  /** Ids of the previous keys held. */
  readonly previous: readonly string[];
  /** Cached rows per key id. */
  readonly cachedByKey: Readonly<Record<string, number>>;
  /** Rows still under a previous key: a previous key may be removed once this is 0. */
  readonly sealedWithPreviousKey: number;
  /** Rows under a key this process does not hold: lost, discarded on their next attempt. */
  readonly sealedWithUnknownKey: number;
}

/** The reply to a password change command. */
export type ChangeReply = { readonly ok: true; readonly eventId: string } | { readonly ok: false; readonly error: string };

/** Where a user event's inbox row goes. */
interface InboxKey {
  readonly consumer: string;
  readonly eventId: string;
  readonly streamSeq: number;
}

/** A unit of work: its writes through `manager`, its events through `emit`. */
type Work<T> = (manager: EntityManager, emit: UnitOfWork<IdmEvent>['emit']) => Promise<T>;

type UserEvent = IdmEventOf<typeof EventTypes.UserAdded> | IdmEventOf<typeof EventTypes.UserModified>;

/** Something the outputs of a decision are stamped with: a causing event, or a seed for derived ids. */
type Stamp = { readonly causedBy: IdmEvent } | { readonly seed: string; readonly correlationId?: string };

const SOURCE = '/idm/password-sync';

/**
 * The shell around the password cache decider: loads state, decides, runs `ApplyPassword`
 * through the {@link PasswordTarget}, saves, and appends events with deterministic ids.
 *
 * Every write goes through the {@link Outbox}: the state, the inbox row of a user event and the
 * events decided commit in one transaction (shared with the other units queued meanwhile: group
 * commit), and the relay publishes the events after the commit with their deterministic ids. So a
 * failed publish loses nothing (the rows stay and are published again) and an event is never
 * published for a state that did not commit.
 */
export class PasswordCacheService {
  /** First attempts running in this process (`userId` NUL `changedAt`): the sweeper leaves them alone. */
  private readonly firstAttempts = new Set<string>();

  constructor(private readonly deps: PasswordCacheServiceDeps) {}

  /** A unit of work with no inbox row (commands, sweeps, re-seals). */
  private write<T>(work: Work<T>): Promise<T> {
    return this.deps.outbox.run(({ manager, emit }) => work(manager, emit));
  }

  /** A unit of work with the inbox row of a user event: a duplicate runs no work. */
  private once<T>(inbox: InboxKey, userId: string, work: Work<T>): Promise<{ duplicate: true } | { duplicate: false; result: T }> {
    return this.deps.outbox.once({ ...inbox, lockKey: userId }, ({ manager, emit }) => work(manager, emit));
  }

  /** Reads outside any unit of work (no row lock; SQLite serialises it with the transactions). */
  private read<T>(query: (manager: EntityManager) => Promise<T>): Promise<T> {
    return query(this.deps.dataSource.manager);
  }

  /**
   * Handles `idm.cmd.password.change`: seals, caches, appends `PasswordChanged`, tries the
   * target once, records the outcome, replies. The plaintext lives only in the request Buffer,
   * which is zero-filled here.
   */
  async changePassword(request: Omit<PasswordChangeRequest, 'password'> & { readonly password: Buffer }): Promise<ChangeReply> {
    const { userId, origin } = request;
    const now = this.deps.clock.now();
    const sealed = this.deps.sealer.seal(request.password, userId);
    request.password.fill(0);
    const eventId = newEventId();
    const { decision, saved } = await this.write(async (manager, emit) => {
      const state = await this.deps.repository.load(manager, userId);
      const d = decide({ type: 'ChangePassword', userId, origin, sealed, changedAt: now.toISOString() }, state, this.ctx(now));
      return { decision: d, saved: await this.commit(manager, emit, d, { seed: eventId, correlationId: eventId }, eventId, now) };
    });
    const ignored = decision.outputs.find((o) => o.kind === 'Ignore');
    if (ignored) return { ok: false, error: `password change not accepted: ${ignored.reason}` };
    const running = `${userId}\u0000${now.toISOString()}`;
    this.firstAttempts.add(running);
    try {
      // Just written, so the attempt need not read it back; after a 'stale' save it reads the newer row.
      await this.runApplies(decision, { seed: eventId, correlationId: eventId }, saved === 'saved' ? decision.state : undefined);
    } catch (err) {
      // The password is cached and PasswordChanged is in the log: the change is accepted. With no
      // recorded attempt, the sweeper attempts it again (see sweep); after a recorded failure the
      // next UserAdded/UserModified does.
      this.deps.logger.error(`first attempt for ${userId} could not be recorded: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.firstAttempts.delete(running);
    }
    return { ok: true, eventId };
  }

  /** Handles `UserAdded` / `UserModified`: the moment to retry a cached password. Exactly once per event via the inbox. */
  async onUserChanged(event: UserEvent, streamSeq: number): Promise<void> {
    // A redelivery of an event already handled must not apply the password a second time.
    if (await Inbox.seen(this.deps.dataSource, this.deps.consumer, event.id)) return;
    const input: PasswordCacheInput = {
      type: event.type === EventTypes.UserAdded ? 'UserAdded' : 'UserModified',
      userId: event.data.userId,
    };
    const now = this.deps.clock.now();
    const state = await this.read((m) => this.deps.repository.load(m, input.userId));
    const first = decide(input, state, this.ctx(now));
    const apply = first.outputs.find((o) => o.kind === 'ApplyPassword');
    if (!apply) {
      // Ignore or expire: decide again under the lock, save, record the inbox row, together.
      await this.once({ consumer: this.deps.consumer, eventId: event.id, streamSeq }, input.userId, async (manager, emit) => {
        const d = decide(input, await this.deps.repository.load(manager, input.userId), this.ctx(now));
        await this.commit(manager, emit, d, { causedBy: event }, undefined, now);
      });
      return;
    }
    // The attempt runs before the inbox row is written: a crash here means a redelivery and one
    // more attempt, never a lost one.
    await this.attempt(apply.userId, apply.changedAt, { causedBy: event }, { consumer: this.deps.consumer, eventId: event.id, streamSeq });
  }

  /**
   * Handles `UserRemoved`: a cached password is destroyed and `PasswordExpired{reason: user-removed}`
   * appended, with the inbox row in the same transaction (exactly once per event).
   */
  async onUserRemoved(event: IdmEventOf<typeof EventTypes.UserRemoved>, streamSeq: number): Promise<void> {
    const now = this.deps.clock.now();
    const input: PasswordCacheInput = { type: 'UserRemoved', userId: event.data.userId };
    const outcome = await this.once({ consumer: this.deps.consumer, eventId: event.id, streamSeq }, input.userId, async (manager, emit) => {
      const d = decide(input, await this.deps.repository.load(manager, input.userId), this.ctx(now));
      await this.commit(manager, emit, d, { causedBy: event }, undefined, now);
      return d;
    });
    if (!outcome.duplicate && outcome.result.outputs.some((o) => o.kind === 'DestroySecret')) {
      this.deps.logger.log(`user ${event.data.userId} removed from the source directory (${event.data.reason}): cached password destroyed`);
    }
  }

  /**
   * Expires what is due, retries `target-unavailable` passwords whose backoff has elapsed, and
   * attempts accepted passwords that have no recorded attempt `firstAttemptGraceMs` after they were
   * cached (the process died between accepting and attempting, or before recording the outcome),
   * so no accepted password waits for a user event that may never come. The shell runs it at start
   * and every few seconds; the decider decides, time is data.
   */
  async sweep(): Promise<SweepReport> {
    const now = this.deps.clock.now();
    const dueExpiry = await this.read((m) => this.deps.repository.dueForExpiry(m, now));
    const dueRetry = await this.read((m) => this.deps.repository.dueForRetry(m, now));
    // Submitted together, so the group commit writes them in a few transactions, not one each.
    const expiries = await settleAll(
      dueExpiry.map((userId) =>
        this.write(async (manager, emit) => {
          const state = await this.deps.repository.load(manager, userId);
          const decision = decide({ type: 'ExpiryDue', userId }, state, this.ctx(now));
          const seed = `expiry:${userId}:${state.status === 'empty' ? '' : state.changedAt}`;
          await this.commit(manager, emit, decision, { seed }, undefined, now);
          return decision;
        }),
      ),
    );
    const expired = expiries.filter((d) => d.outputs.some((o) => o.kind === 'Append')).length;
    let retried = 0;
    for (const userId of dueRetry) {
      const state = await this.read((m) => this.deps.repository.load(m, userId));
      const d = decide({ type: 'RetryDue', userId }, state, this.ctx(now));
      const apply = d.outputs.find((o) => o.kind === 'ApplyPassword');
      if (apply) {
        await this.attempt(userId, apply.changedAt, { seed: `retry:${userId}:${apply.changedAt}` });
        retried++;
      } else if (d.outputs.some((o) => o.kind === 'Append')) {
        await this.write(async (manager, emit) => {
          const again = decide({ type: 'RetryDue', userId }, await this.deps.repository.load(manager, userId), this.ctx(now));
          const seed = `expiry:${userId}:${state.status === 'empty' ? '' : state.changedAt}`;
          await this.commit(manager, emit, again, { seed }, undefined, now);
        });
      }
    }
    return { expired, retried, recovered: await this.attemptOverdue(now) };
  }

  /** The third part of {@link sweep}: accepted passwords never attempted. Returns how many were attempted. */
  private async attemptOverdue(now: Date): Promise<number> {
    const cachedBefore = new Date(now.getTime() - (this.deps.firstAttemptGraceMs ?? 30_000));
    const due = await this.read((m) => this.deps.repository.dueForFirstAttempt(m, cachedBefore));
    let recovered = 0;
    for (const userId of due) {
      const state = await this.read((m) => this.deps.repository.load(m, userId));
      const d = decide({ type: 'AttemptOverdue', userId, cachedBefore: cachedBefore.toISOString() }, state, this.ctx(now));
      const apply = d.outputs.find((o) => o.kind === 'ApplyPassword');
      // Expiry is the ExpiryDue loop's; here only the attempt.
      if (!apply || this.firstAttempts.has(`${userId}\u0000${apply.changedAt}`)) continue;
      this.deps.logger.warn(`password of ${userId} accepted at ${apply.changedAt} has no recorded attempt; attempting it now`);
      await this.attempt(userId, apply.changedAt, { seed: `first:${userId}:${apply.changedAt}` });
      recovered++;
    }
    return recovered;
  }

  /**
   * Moves up to `limit` cached secrets sealed with a previous key onto the current key: one unit
   * of work per user (row locked on Postgres, so an attempt or a new change for that user takes
   * turns with it), submitted together so the group commit writes them in a few transactions
   * instead of one fsync each. A row the sealer cannot open is left alone and counted as failed.
   */
  async resealBatch(limit = 200): Promise<ResealReport> {
    const { sealer, repository } = this.deps;
    const users = await this.read((m) => repository.sealedWith(m, sealer.previousKeyIds, limit));
    const outcomes = await Promise.all(
      users.map(async (userId): Promise<'resealed' | 'unchanged' | 'failed'> => {
        try {
          const moved = await this.write(async (m) => {
            const state = await repository.load(m, userId);
            if (state.status !== 'cached') return false;
            const next = sealer.reseal(state.sealed, userId);
            return next ? repository.reseal(m, userId, state.sealed, next) : false;
          });
          return moved ? 'resealed' : 'unchanged';
        } catch (err) {
          if (!(err instanceof SecretTamperedError || err instanceof SecretKeyMismatchError)) throw err;
          this.deps.logger.error(`cached password of ${userId} cannot be re-sealed (${err.name}); it stays under its old key`);
          return 'failed';
        }
      }),
    );
    const count = (o: string): number => outcomes.filter((x) => x === o).length;
    return { resealed: count('resealed'), failed: count('failed'), more: users.length === limit };
  }

  /** How many cached rows each key sealed, against the keys this process holds. */
  async keyUsage(): Promise<KeyUsage> {
    const { sealer } = this.deps;
    const cachedByKey = await this.read((m) => this.deps.repository.cachedByKey(m));
    let sealedWithPreviousKey = 0;
    let sealedWithUnknownKey = 0;
    for (const [keyId, n] of Object.entries(cachedByKey)) {
      if (keyId === sealer.keyId) continue;
      if (sealer.canOpen(keyId)) sealedWithPreviousKey += n;
      else sealedWithUnknownKey += n;
    }
    return { current: sealer.keyId, previous: sealer.previousKeyIds, cachedByKey, sealedWithPreviousKey, sealedWithUnknownKey };
  }

  /** Number of passwords cached now. */
  async cachedCount(): Promise<number> {
    return this.read((m) => this.deps.repository.countCached(m));
  }

  /** Earliest expiry and longest target-unavailable streak of the cached passwords (for the metrics). */
  async cachedHealth(): Promise<CachedHealth> {
    return this.read((m) => this.deps.repository.cachedHealth(m));
  }

  private ctx(now: Date) {
    return { now, policy: this.deps.policy };
  }

  private async runApplies(decision: PasswordCacheDecision, stamp: Stamp, written?: PasswordCacheState): Promise<void> {
    for (const out of decision.outputs) {
      if (out.kind === 'ApplyPassword') await this.attempt(out.userId, out.changedAt, stamp, undefined, written);
    }
  }

  /**
   * Opens the cached secret, hands it to the target, zero-fills it, then records the answer: on
   * the row the attempt started from if it is unchanged, else on the fresh row under the lock (a
   * newer password may have arrived meanwhile). `written` is the state the caller has just
   * committed, when it has: then it is not read again.
   */
  private async attempt(userId: string, changedAt: string, stamp: Stamp, inbox?: InboxKey, written?: PasswordCacheState): Promise<void> {
    const state = written ?? (await this.read((m) => this.deps.repository.load(m, userId)));
    if (state.status !== 'cached' || state.changedAt !== changedAt) {
      // Synced, expired or replaced since the decision: nothing to try; the event still counts as handled.
      if (inbox) await this.once(inbox, userId, () => Promise.resolve());
      return;
    }
    let input: PasswordCacheInput;
    let plaintext: Buffer | undefined;
    try {
      plaintext = this.deps.sealer.open(state.sealed, userId);
    } catch (err) {
      const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.deps.logger.error(`cached password of ${userId} cannot be opened (${why}); discarding it`);
      input = { type: 'SecretUnreadable', userId, changedAt, why };
    }
    if (plaintext) {
      try {
        // Opened with a previous key: store it under the current key now, whatever the attempt
        // says, so the previous key can be retired without waiting for the background pass.
        if (state.sealed.keyId !== this.deps.sealer.keyId) await this.resealOnUse(userId, state.sealed, plaintext);
        const result = await this.deps.target.apply(userId, plaintext);
        input = { type: 'AttemptResult', userId, changedAt, target: this.deps.target.describe(), result };
      } finally {
        plaintext.fill(0);
      }
    }
    const record: Work<PasswordCacheDecision> = async (manager, emit) => {
      const at = this.deps.clock.now();
      // Decided on the row the attempt started from, and written only if the row still holds
      // exactly that (one statement, no read: nearly always). Otherwise something was written
      // meanwhile (a newer password, an expiry, another attempt): decide again on the row read
      // under the lock.
      const d = decide(input, state, this.ctx(at));
      if (await this.deps.repository.saveIfUnchanged(manager, d.state, state)) {
        this.emitOutputs(emit, d, stamp, at);
        return d;
      }
      const again = decide(input, await this.deps.repository.load(manager, userId), this.ctx(at));
      await this.commit(manager, emit, again, stamp, undefined, at);
      return again;
    };
    const decision = inbox ? await this.once(inbox, userId, record) : { duplicate: false as const, result: await this.write(record) };
    if (!decision.duplicate) this.logOutcome(userId, decision.result);
  }

  private async resealOnUse(userId: string, from: SealedSecret, plaintext: Buffer): Promise<void> {
    const to = this.deps.sealer.seal(plaintext, userId);
    await this.write((m) => this.deps.repository.reseal(m, userId, from, to));
  }

  private logOutcome(userId: string, d: PasswordCacheDecision): void {
    for (const out of d.outputs) {
      if (out.kind !== 'Append') continue;
      const e = out.event;
      if (e.type === EventTypes.PasswordSynced)
        this.deps.logger.log(`password of ${userId} applied to ${e.data.target} (attempt ${e.data.attempt})`);
      if (e.type === EventTypes.PasswordSyncFailed)
        this.deps.logger.warn(`password of ${userId} not applied (attempt ${e.data.attempt}): ${e.data.reason}: ${e.data.message}`);
    }
  }

  /**
   * Saves the decided state and emits its events into the outbox, in the caller's transaction. `DestroySecret`
   * needs no separate step: the saved state no longer holds the secret and the repository nulls
   * the columns in the same write. `now` is the time the decision was made at: the events carry
   * it, so a replay of the log rebuilds the same `settled_at` / `next_retry_at`.
   */
  private async commit(
    manager: EntityManager,
    emit: UnitOfWork<IdmEvent>['emit'],
    decision: PasswordCacheDecision,
    stamp: Stamp,
    firstEventId?: string,
    now: Date = this.deps.clock.now(),
  ): Promise<SaveOutcome> {
    if (decision.outputs.every((o) => o.kind === 'Ignore')) return 'nothing-to-save';
    const saved = await this.deps.repository.save(manager, decision.state);
    this.emitOutputs(emit, decision, stamp, now, firstEventId);
    return saved;
  }

  /** Emits the decision's events into the outbox, stamped (see {@link commit}). */
  private emitOutputs(
    emit: UnitOfWork<IdmEvent>['emit'],
    decision: PasswordCacheDecision,
    stamp: Stamp,
    now: Date,
    firstEventId?: string,
  ): void {
    const attempt = decision.state.status === 'empty' ? 0 : decision.state.attempts;
    emit(
      decision.outputs.flatMap((out) =>
        out.kind === 'Append' ? [this.stampEvent(out.event, stamp, now, String(attempt), firstEventId)] : [],
      ),
    );
  }

  private stampEvent(pending: PendingPasswordEvent, stamp: Stamp, now: Date, discriminator: string, explicitId?: string): IdmEvent {
    const userId = pending.data.userId;
    if ('causedBy' in stamp) {
      return createEvent(pending.type, userId, pending.data as never, {
        source: SOURCE,
        time: now,
        causedBy: stamp.causedBy,
        discriminator: [discriminator],
      }) as IdmEvent;
    }
    const id =
      pending.type === EventTypes.PasswordChanged && explicitId
        ? explicitId
        : deriveEventId(stamp.seed, pending.type, userId, discriminator);
    return createEvent(pending.type, userId, pending.data as never, {
      source: SOURCE,
      time: now,
      id,
      ...(stamp.correlationId ? { correlationId: stamp.correlationId } : {}),
    }) as IdmEvent;
  }
}

/** Waits for every promise; rejects with the first failure once all have settled (none is left running). */
async function settleAll<T>(promises: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const outcomes = await Promise.allSettled(promises);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<T>).value);
}
