import { errorMessage } from '@idm/config';
import { createHash } from 'node:crypto';
import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type OrderedConsumerOptions,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { CommandSubjects, decodeEvent, EventTypes, typeFilter } from '@idm/contracts';
import { deadLetterStreamName, type DeadLetterRecord } from '@idm/messaging';
import { OPERATED_APPS } from './app-subjects.js';
import { OperationsError } from './errors.js';
import { keyFilters } from './event-filter.js';
import { mergeAsync } from './merge-async.js';
import { eventsPerMinute, groupTimeline, type EventsPerMinute, type SequencedEvent, type TimelineGroup } from './timeline.js';

/** Size and time span of the event stream. */
export interface StreamFacts {
  readonly name: string;
  readonly messages: number;
  readonly bytes: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** ISO time of the first and last stored message; null when the stream is empty. */
  readonly firstTime: string | null;
  readonly lastTime: string | null;
}

/** One durable consumer of the stream and how far behind it is. */
export interface ConsumerFacts {
  readonly name: string;
  readonly lag: number;
  readonly unacked: number;
  readonly redelivered: number;
  readonly delivered: number;
}

/** What an app answered on its status subject; null when it did not answer. */
export type AppAnswer = Record<string, unknown> | null;

/** Everything `idm status` and the console overview show. */
export interface StatusReport {
  readonly stream: StreamFacts;
  readonly consumers: readonly ConsumerFacts[];
  readonly deadLetters: number;
  readonly notifier: AppAnswer;
  readonly passwordSync: AppAnswer;
  readonly scheduler: AppAnswer;
  /** Each app of {@link OPERATED_APPS} and whether it answered. */
  readonly apps: ReadonlyArray<{ readonly name: string; readonly up: boolean; readonly version: string | null }>;
}

/** A pending email of one user, as the notifier reports it. */
export interface PendingEmail {
  readonly emailType: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly firstQueuedAt: string;
  readonly claimed: boolean;
}

/** One user's pending work, from the apps that own it; `null` parts did not answer. */
export interface UserReport {
  readonly userId: string;
  readonly known: boolean;
  readonly emails: { readonly known: boolean; readonly pending: readonly PendingEmail[] } | null;
  /** password-sync's metadata of the cached password (never the secret); null when not cached or no answer. */
  readonly password: Record<string, unknown> | null;
  readonly passwordSyncAnswered: boolean;
}

/** One email template rendered for a user, as the notifier would send it. */
export interface EmailPreview {
  readonly emailType: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** A dead letter with its sequence in the dead-letter stream. */
export interface StoredDeadLetter {
  readonly seq: number;
  readonly record: DeadLetterRecord;
}

/** What replaying the whole stream (or from a sequence/time) would read. */
export interface ReplayPlan {
  readonly stream: string;
  readonly count: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
}

/** A user found by search. */
export interface UserMatch {
  readonly userId: string;
  readonly email: string | null;
  readonly displayName: string | null;
}

/** A running tail: iterate the events, `stop()` to end it. */
export interface Tail extends AsyncIterable<SequencedEvent | { readonly seq: number; readonly subject: string; readonly error: string }> {
  stop(): Promise<void>;
}

/** Default safety limit on how many messages one bounded read scans (`maxScan`). */
const MAX_SCAN = 50_000;
/** A bounded read that receives nothing for this long has read everything there is. */
const IDLE_MS = 2_000;

/**
 * The queries and actions operator tools share (the `idm` CLI and the console): NATS
 * request/reply to the apps' status subjects and JetStream reads of the event and dead-letter
 * streams. It never opens an app's database. Reads use ordered consumers, so nothing is acked and
 * nothing is left on the server. Works on nats-server 2.9+ (one filter subject per consumer).
 */
export class OperationsClient {
  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly stream: string,
    /** Most messages one bounded read scans (per filter). */
    private readonly maxScan: number,
  ) {}

  /**
   * A client on an open connection for the event stream `stream`. Makes no request: with NATS
   * permissions on, an identity that may not call the JetStream API (a password writer) can still
   * hold one, and each query's first call reports a missing permission clearly.
   */
  static async on(nc: NatsConnection, stream: string, options: { maxScan?: number } = {}): Promise<OperationsClient> {
    return new OperationsClient(nc, jetstream(nc), await jetstreamManager(nc, { checkAPI: false }), stream, options.maxScan ?? MAX_SCAN);
  }

  /**
   * A core-NATS request with a JSON body and reply. `undefined` when no service answers (no
   * responders or timeout), so callers can report that service as down and carry on.
   */
  async ask(subject: string, body: unknown, timeoutMs = 3_000): Promise<Record<string, unknown> | undefined> {
    try {
      const reply = await this.nc.request(subject, JSON.stringify(body ?? {}), { timeout: timeoutMs });
      return reply.json<Record<string, unknown>>();
    } catch {
      return undefined;
    }
  }

  /**
   * Like {@link ask}, but a missing answer or `{ ok: false }` is an error naming the service.
   * @throws OperationsError `IDM_OPS_UNREACHABLE` (no answer) or `IDM_OPS_REFUSED` (`ok: false`).
   */
  async askOrFail(subject: string, body: unknown, service: string, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const reply = await this.ask(subject, body, timeoutMs);
    if (!reply) throw new OperationsError(`${service} did not answer on ${subject}: is it running?`, 'IDM_OPS_UNREACHABLE');
    if (reply.ok !== true) throw new OperationsError(`${service} refused: ${String(reply.error ?? 'unknown error')}`, 'IDM_OPS_REFUSED');
    return reply;
  }

  /** @throws OperationsError `IDM_OPS_NOT_FOUND` when the stream does not exist. */
  async streamFacts(): Promise<StreamFacts> {
    let info;
    try {
      info = await this.jsm.streams.info(this.stream);
    } catch (err) {
      throw new OperationsError(`stream ${this.stream} not found: ${errorMessage(err)}`, 'IDM_OPS_NOT_FOUND', { cause: err });
    }
    const s = info.state;
    const empty = s.messages === 0;
    return {
      name: this.stream,
      messages: s.messages,
      bytes: s.bytes,
      firstSeq: s.first_seq,
      lastSeq: s.last_seq,
      firstTime: empty ? null : s.first_ts,
      lastTime: empty ? null : s.last_ts,
    };
  }

  /** The stream's durable consumers (the apps'); ephemeral ones (tails, reads like these) are left out. */
  async consumers(): Promise<ConsumerFacts[]> {
    const out: ConsumerFacts[] = [];
    for await (const c of this.jsm.consumers.list(this.stream)) {
      if (!c.config.durable_name) continue;
      out.push({
        name: c.name,
        lag: c.num_pending,
        unacked: c.num_ack_pending,
        redelivered: c.num_redelivered,
        delivered: c.delivered.stream_seq,
      });
    }
    return out;
  }

  /** Messages in the dead-letter stream; 0 when it does not exist yet. */
  async deadLetterCount(): Promise<number> {
    try {
      return (await this.jsm.streams.info(deadLetterStreamName(this.stream))).state.messages;
    } catch {
      return 0;
    }
  }

  /** The log and every app's own report. Only a missing stream fails; a silent app is `null`. */
  async status(): Promise<StatusReport> {
    const stream = await this.streamFacts();
    const [consumers, deadLetters, ...answers] = await Promise.all([
      this.consumers(),
      this.deadLetterCount(),
      ...OPERATED_APPS.map((a) => this.ask(a.statusSubject, {})),
    ]);
    const byName = new Map(OPERATED_APPS.map((a, i) => [a.name, answers[i] ?? null]));
    return {
      stream,
      consumers,
      deadLetters,
      notifier: byName.get('notifier') ?? null,
      passwordSync: byName.get('password-sync') ?? null,
      scheduler: byName.get('scheduler') ?? null,
      apps: OPERATED_APPS.map((a) => {
        const answer = byName.get(a.name) ?? null;
        return { name: a.name, up: answer !== null, version: typeof answer?.version === 'string' ? answer.version : null };
      }),
    };
  }

  /**
   * One user's pending emails (notifier) and cached password state (password-sync, metadata only).
   * @throws OperationsError `IDM_OPS_UNREACHABLE` when neither app answers.
   */
  async user(userId: string): Promise<UserReport> {
    const [notifier, passwords] = await Promise.all([
      this.ask(CommandSubjects.NotifierUser, { userId }),
      this.ask(CommandSubjects.PasswordSyncUser, { userId }),
    ]);
    if (!notifier && !passwords)
      throw new OperationsError('neither the notifier nor password-sync answered: are they running?', 'IDM_OPS_UNREACHABLE');
    const pending = (notifier?.pending ?? []) as PendingEmail[];
    const entry = (passwords?.entry ?? null) as Record<string, unknown> | null;
    return {
      userId,
      known: notifier?.known === true || pending.length > 0 || entry !== null,
      emails: notifier ? { known: notifier.known === true, pending } : null,
      password: entry,
      passwordSyncAnswered: passwords !== undefined,
    };
  }

  /**
   * The notifier's templates (or one) rendered for a user; `known` is false when the notifier has
   * no address for the user (sample values were used). Nothing is sent.
   * @throws OperationsError when the notifier does not answer or knows no such email type.
   */
  async emailPreviews(userId: string, emailType?: string): Promise<{ known: boolean; previews: EmailPreview[] }> {
    const reply = await this.askOrFail(CommandSubjects.NotifierPreview, { userId, ...(emailType ? { emailType } : {}) }, 'the notifier');
    return { known: reply.known === true, previews: (reply.previews ?? []) as EmailPreview[] };
  }

  /** @throws OperationsError when the scheduler does not answer. */
  async schedules(): Promise<Array<Record<string, unknown>>> {
    const reply = await this.askOrFail(CommandSubjects.SchedulerList, {}, 'the scheduler');
    return (reply.schedules ?? []) as Array<Record<string, unknown>>;
  }

  /** Fires a schedule now; the reply holds the tick's `eventId`. @throws OperationsError. */
  fireSchedule(name: string): Promise<Record<string, unknown>> {
    return this.askOrFail(CommandSubjects.SchedulerFire, { schedule: name }, 'the scheduler');
  }

  /** Up to `limit` dead letters, oldest first. Empty when the dead-letter stream does not exist. */
  async deadLetters(limit = 1000): Promise<StoredDeadLetter[]> {
    const name = deadLetterStreamName(this.stream);
    let info;
    try {
      info = await this.jsm.streams.info(name);
    } catch {
      return [];
    }
    const out: StoredDeadLetter[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0 && out.length < limit; seq++) {
      const msg = await this.jsm.streams.getMessage(name, { seq }).catch(() => null);
      if (msg) out.push({ seq, record: msg.json<DeadLetterRecord>() });
    }
    return out;
  }

  /** @throws OperationsError `IDM_OPS_NOT_FOUND` when no dead letter has that sequence. */
  async deadLetter(seq: number): Promise<StoredDeadLetter> {
    const msg = await this.jsm.streams.getMessage(deadLetterStreamName(this.stream), { seq }).catch(() => null);
    if (!msg) throw new OperationsError(`no dead letter with sequence ${seq}`, 'IDM_OPS_NOT_FOUND');
    return { seq, record: msg.json<DeadLetterRecord>() };
  }

  /**
   * Appends the dead letter's original message again on its original subject (without its
   * message id, so the duplicate window does not swallow it; consumers that did handle it skip it
   * by their inbox), then removes the dead letter. Returns the new stream sequence. A record whose
   * payload was truncated is retried with the original, read back from the source stream and checked
   * against the record's SHA-256; when the stream no longer holds it, the retry is refused
   * (`IDM_OPS_NOT_FOUND`) and the dead letter stays.
   */
  async retryDeadLetter(letter: StoredDeadLetter): Promise<number> {
    const payload = await this.originalPayload(letter);
    const ack = await this.js.publish(letter.record.subject, payload);
    await this.jsm.streams.deleteMessage(deadLetterStreamName(this.stream), letter.seq);
    return ack.seq;
  }

  private async originalPayload(letter: StoredDeadLetter): Promise<Uint8Array> {
    const r = letter.record;
    if (!r.payloadTruncated) return r.payloadEncoding === 'base64' ? Buffer.from(r.payload, 'base64') : Buffer.from(r.payload, 'utf8');
    const original = await this.jsm.streams.getMessage(r.stream, { seq: r.streamSequence }).catch(() => null);
    if (!original || createHash('sha256').update(original.data).digest('hex') !== r.payloadSha256) {
      throw new OperationsError(
        `dead letter ${letter.seq}: its payload (${r.payloadSize} bytes) was truncated and ${r.stream} #${r.streamSequence} no longer holds the original; drop it instead`,
        'IDM_OPS_NOT_FOUND',
      );
    }
    return original.data;
  }

  /** Removes a dead letter for good. */
  async dropDeadLetter(letter: StoredDeadLetter): Promise<void> {
    await this.jsm.streams.deleteMessage(deadLetterStreamName(this.stream), letter.seq);
  }

  /** How many stored messages match `filter` (all when undefined). */
  async countMatching(filter: string | undefined): Promise<number> {
    if (!filter) return (await this.jsm.streams.info(this.stream)).state.messages;
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: filter });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  }

  /**
   * Every stored event on any of `filters` (all events when empty), oldest first, up to
   * {@link MAX_SCAN} per filter; undecodable messages are skipped. Reads with ordered consumers
   * (one per filter: nats-server 2.9 knows one filter per consumer) and stops at the last stored one.
   */
  async readEvents(filters: readonly string[], options: { since?: Date; fromSeq?: number } = {}): Promise<SequencedEvent[]> {
    const out: SequencedEvent[] = [];
    for (const filter of filters.length === 0 ? [undefined] : filters) {
      await this.scan(filter, options, (seq, data) => {
        try {
          out.push({ seq, event: decodeEvent(data) });
        } catch {
          // undecodable: the dead-letter page shows those
        }
      });
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** One user's events, grouped by correlation id, newest first; at most `limit` events. */
  async timeline(userId: string, limit = 500): Promise<TimelineGroup[]> {
    const events = await this.readEvents(keyFilters(userId));
    return groupTimeline(events.slice(-limit));
  }

  /**
   * Events per minute by type over the last `minutes` minutes before `now`. On a log busier than
   * {@link MAX_SCAN} events in that window only the newest MAX_SCAN are counted (`partial`), so
   * the recent minutes are always complete.
   */
  async eventsPerMinute(now: Date, minutes = 60): Promise<EventsPerMinute & { readonly partial: boolean }> {
    const since = new Date(Math.floor(now.getTime() / 60_000) * 60_000 - (minutes - 1) * 60_000);
    const state = (await this.jsm.streams.info(this.stream)).state;
    const windowStart = state.last_seq - this.maxScan + 1;
    const capped = state.messages > this.maxScan && windowStart > state.first_seq;
    const events = capped ? await this.readEvents([], { fromSeq: windowStart }) : await this.readEvents([], { since });
    const partial = capped && events.length > 0 && new Date(events[0]!.event.time).getTime() > since.getTime();
    return {
      ...eventsPerMinute(
        events.map((e) => ({ type: e.event.type, time: new Date(e.event.time) })),
        now,
        minutes,
      ),
      partial,
    };
  }

  /**
   * Users whose id or email contains `query` (case-insensitive), from the `idm.user.added` and
   * `idm.user.modified` events (the console never reads an app's tables). Latest values win.
   */
  async findUsers(query: string, limit = 50): Promise<UserMatch[]> {
    const q = query.trim().toLowerCase();
    const users = new Map<string, { email: string | null; displayName: string | null }>();
    for (const type of [EventTypes.UserAdded, EventTypes.UserModified]) {
      for (const { event } of await this.readEvents([typeFilter(type)])) {
        const data = event.data as { email?: string; displayName?: string; changes?: { email?: string; displayName?: string } };
        const current = users.get(event.subject) ?? { email: null, displayName: null };
        const email = data.email ?? data.changes?.email ?? current.email;
        const displayName = data.displayName ?? data.changes?.displayName ?? current.displayName;
        users.set(event.subject, { email, displayName });
      }
    }
    const matches: UserMatch[] = [];
    for (const [userId, u] of users) {
      if (userId.toLowerCase().includes(q) || (u.email ?? '').toLowerCase().includes(q)) matches.push({ userId, ...u });
      if (matches.length >= limit) break;
    }
    return matches;
  }

  /** What a replay from `fromSeq` (or the whole stream) would read. */
  async replayPlan(fromSeq?: number): Promise<ReplayPlan> {
    const s = await this.streamFacts();
    const first = Math.max(s.firstSeq, fromSeq ?? s.firstSeq);
    if (s.messages === 0 || first > s.lastSeq) return { stream: this.stream, count: 0, firstSeq: null, lastSeq: null };
    // Sequences below first_seq are gone; deleted ones inside the range are counted as present
    // (an upper bound: JetStream does not count interior deletes per range cheaply).
    const count = fromSeq === undefined ? s.messages : Math.min(s.messages, s.lastSeq - first + 1);
    return { stream: this.stream, count, firstSeq: first, lastSeq: s.lastSeq };
  }

  /**
   * New events on any of `filters` (everything when empty) as they are appended, or from `since`
   * / the start, like `idm tail`. Several filters are several ordered consumers merged in arrival
   * order. Each message is decoded; an undecodable one is yielded with its error. `stop()` ends it.
   */
  async tail(filters: readonly string[], options: { since?: Date; all?: boolean } = {}): Promise<Tail> {
    const iterators = await Promise.all(
      (filters.length === 0 ? [undefined] : filters).map(async (filter) => {
        const opts: Partial<OrderedConsumerOptions> = options.since
          ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: options.since.toISOString() }
          : { deliver_policy: options.all ? DeliverPolicy.All : DeliverPolicy.New };
        // A single subject (not an array): nats-server 2.9 knows only one filter per consumer.
        if (filter) opts.filter_subjects = filter;
        return (await this.js.consumers.get(this.stream, opts)).consume();
      }),
    );
    const merged = mergeAsync(iterators);
    return {
      stop: async () => {
        await Promise.all(iterators.map((m) => m.close().catch(() => undefined)));
      },
      async *[Symbol.asyncIterator]() {
        for await (const msg of merged) {
          try {
            yield { seq: msg.seq, event: decodeEvent(msg.data) };
          } catch (err) {
            yield { seq: msg.seq, subject: msg.subject, error: errorMessage(err) };
          }
        }
      },
    };
  }

  /** Calls `onMessage` for each stored message on `filter` (from `since` or `fromSeq`), stopping at the last one. */
  private async scan(
    filter: string | undefined,
    from: { since?: Date; fromSeq?: number },
    onMessage: (seq: number, data: Uint8Array) => void,
  ): Promise<void> {
    const since = from.since;
    const info = await this.jsm.streams.info(this.stream);
    if (info.state.messages === 0) return;
    if (since && new Date(info.state.last_ts).getTime() < since.getTime()) return;
    // Without a message to deliver, an ordered consumer waits for one: count first.
    if ((await this.countMatching(filter)) === 0) return;
    if (from.fromSeq !== undefined && from.fromSeq > info.state.last_seq) return;
    const opts: Partial<OrderedConsumerOptions> = since
      ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() }
      : from.fromSeq !== undefined
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.fromSeq }
        : { deliver_policy: DeliverPolicy.All };
    if (filter) opts.filter_subjects = filter;
    const consumer = await this.js.consumers.get(this.stream, opts);
    const messages = await consumer.consume();
    // A filter with a time start can match nothing after `since`: a read idle for IDLE_MS ends.
    let guard = setTimeout(() => void messages.close(), IDLE_MS);
    let read = 0;
    try {
      for await (const msg of messages) {
        clearTimeout(guard);
        guard = setTimeout(() => void messages.close(), IDLE_MS);
        onMessage(msg.seq, msg.data);
        read += 1;
        if (msg.info.pending === 0 || read >= this.maxScan) break;
      }
    } finally {
      clearTimeout(guard);
      await messages.close().catch(() => undefined);
    }
  }
}
