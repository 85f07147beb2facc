import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { DataSource } from 'typeorm';
import type { IdmEvent, IdmEventOf } from '@idm/contracts';
import { countOutboxRows, Inbox, Outbox, OutboxRelay } from '@idm/persistence';
import { anEvent, ManualClock, startSmtpServer, testDatabases, FIXED_NOW, type SmtpServerHandle } from '@idm/testing';
import { DEFAULT_EMAIL_RULES, emailTypesOf } from './email-rules/email-rules.config.js';
import { MailTransport, type OutgoingEmail, type SendResult } from './delivery/mail-transport.js';
import { NodemailerMailTransport } from './delivery/nodemailer-mail-transport.js';
import { parseSmtpUrl } from './delivery/smtp-settings.js';
import { TickDeliveryService, type TickReport } from './delivery/tick-delivery.service.js';
import { openNotifierDatabase } from './notifier.database.js';
import { DeliveryOutcomeService } from './delivery/delivery-outcome.service.js';
import { EmailFlagService } from './pending-emails/email-flag.service.js';
import type { DeliveryEvent } from './pending-emails/pending-email.evolve.js';
import { InstanceLeaseRepository } from './instance-lease/instance-lease.repository.js';
import type { PendingEmail } from './pending-emails/pending-email.js';
import { PendingEmailRepository } from './pending-emails/pending-email.repository.js';
import { RecipientRepository } from './recipients/recipient.repository.js';
import { loadTemplates } from './templates/template-store.js';
import { causeContextOf, EMPTY_USER_STATE, evolveNotifierUser, type NotifierUserState } from './replay/notifier-projection.evolve.js';

const HOUR = 3_600_000;

/** The stream, as the outbox relay sees it: what was published, in order. */
class RecordingSink {
  readonly events: IdmEvent[] = [];
  /** Set to make the next publish fail, as a NATS outage would. */
  failNext = false;
  async publish(events: readonly IdmEvent[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('nats unavailable');
    }
    this.events.push(...events);
  }
  ofType<T extends IdmEvent['type']>(type: T): IdmEventOf<T>[] {
    return this.events.filter((e) => e.type === type) as unknown as IdmEventOf<T>[];
  }
}

/** Wraps the real transport to observe how many sends are in flight (the server is still real). */
class InFlightMeter extends MailTransport {
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly inner: MailTransport) {
    super();
  }
  override async send(email: OutgoingEmail): Promise<SendResult> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.inner.send(email);
    } finally {
      this.inFlight -= 1;
    }
  }
  override close(): Promise<void> {
    return this.inner.close();
  }
}

interface Harness {
  readonly dataSource: DataSource;
  readonly sink: RecordingSink;
  readonly clock: ManualClock;
  readonly flags: EmailFlagService;
  readonly outcomes: DeliveryOutcomeService;
  /** The app's exactly-once primitive (group commit) and its relay, publishing into `sink`. */
  readonly outbox: Outbox<IdmEvent>;
  readonly relay: OutboxRelay<IdmEvent>;
  readonly pendingEmails: PendingEmailRepository;
  readonly transport: InFlightMeter;
  /** One tick run, then the relay publishes what it stored; `service` keeps one service across ticks (as the app's singleton does), default a new one per tick. */
  tick(
    task?: string,
    options?: { concurrency?: number; dataSource?: DataSource; service?: TickDeliveryService },
  ): Promise<{ tick: IdmEventOf<'idm.bulk-task.tick'>; report: TickReport }>;
  /**
   * A delivery service over `pendingEmails` (default the harness's repository), its outcomes stored
   * through it too, a failed commit retried for `retryMs` (default 0: the tick fails at once).
   */
  service(pendingEmails?: PendingEmailRepository, retryMs?: number): TickDeliveryService;
  pendingTypes(userId: string): Promise<string[]>;
  /** Renews the spec instance's lease at the clock's time (what its heartbeat timer does). */
  heartbeat(): Promise<void>;
}

/** A database that refuses to store outcomes (`refuseOutcomes`) or to release claims (`refuse`) while asked to. */
class RefusingRepository extends PendingEmailRepository {
  refuse = false;
  refuseOutcomes = false;
  override async release(dataSource: DataSource, token: string, pending?: readonly PendingEmail[]): Promise<number> {
    if (this.refuse) throw new Error('database refused the release');
    return super.release(dataSource, token, pending);
  }
  override async deleteKeys(...args: Parameters<PendingEmailRepository['deleteKeys']>): Promise<void> {
    if (this.refuseOutcomes) throw new Error('database refused the outcome');
    return super.deleteKeys(...args);
  }
}

let smtp: SmtpServerHandle;
let tickNo = 0;

async function harness(dataSource: DataSource, t: TestContext): Promise<Harness> {
  const sink = new RecordingSink();
  const clock = new ManualClock();
  const recipients = new RecipientRepository();
  const pendingEmails = new PendingEmailRepository();
  const from = 'IDM <noreply@idm.example>';
  const transport = new InFlightMeter(
    new NodemailerMailTransport({
      ...parseSmtpUrl(smtp.url),
      from,
      rejectUnauthorized: true,
      maxConnections: 4,
      connectionTimeoutMs: 3000,
      greetingTimeoutMs: 3000,
      socketTimeoutMs: 5000,
    }),
  );
  t.after(() => transport.close());
  const templates = loadTemplates(emailTypesOf(DEFAULT_EMAIL_RULES));
  const outbox = new Outbox<IdmEvent>(dataSource, { groupCommit: { lingerMs: 2 } });
  const relay = new OutboxRelay<IdmEvent>(dataSource, { publish: (event) => sink.publish([event]) });
  const flags = new EmailFlagService({
    outbox,
    recipients,
    pendingEmails,
    clock,
    rules: DEFAULT_EMAIL_RULES,
    source: '/idm/notifier',
  });
  const outcomes = new DeliveryOutcomeService(outbox, pendingEmails, 0);
  const leases = new InstanceLeaseRepository();
  const lease = { instanceId: 'spec-instance', incarnation: 'spec-incarnation' };
  await leases.register(dataSource, lease, clock.now(), new Date(0));
  const settings = {
    limits: { maxAttempts: 3, maxAgeMs: 72 * HOUR },
    sendConcurrency: 4,
    lease: { leaseTimeoutMs: 30_000, heartbeatMs: 10_000, claimTtlMs: 15 * 60_000 },
    instanceId: 'spec-instance',
    from,
    source: '/idm/notifier',
  };
  return {
    dataSource,
    sink,
    clock,
    flags,
    outcomes,
    outbox,
    relay,
    pendingEmails,
    transport,
    async tick(task = 'RetryEmailNotifications', options = {}) {
      tickNo += 1;
      const tick = anEvent.bulkTaskTick(
        { schedule: 'email-retry', task, scheduledFor: clock.now().toISOString(), firedAt: clock.now().toISOString() },
        { id: `tick-${tickNo}` },
      );
      const service =
        options.service ??
        new TickDeliveryService(
          { dataSource: options.dataSource ?? dataSource, pendingEmails, recipients, transport, templates, outcomes, clock },
          { ...settings, sendConcurrency: options.concurrency ?? settings.sendConcurrency },
        );
      const report = await service.deliver(tick);
      // A failed publish leaves the rows for the next drain (the app's relay retries): not the tick's failure.
      await relay.drainOnce().catch(() => undefined);
      return { tick, report };
    },
    service(repository = pendingEmails, retryMs = 0) {
      const stored = new DeliveryOutcomeService(outbox, repository, retryMs);
      return new TickDeliveryService(
        { dataSource, pendingEmails: repository, recipients, transport, templates, outcomes: stored, clock },
        settings,
      );
    },
    async pendingTypes(userId) {
      return [...(await pendingEmails.typesFor(dataSource, userId))].sort();
    },
    async heartbeat() {
      await leases.heartbeat(dataSource, lease, clock.now());
    },
  };
}

let seqCounter = 1;
/** What the app does for one delivery: the handler commits, then the relay publishes the outbox. */
const deliver = async (h: Harness, event: IdmEvent): Promise<readonly IdmEvent[]> => {
  const emitted = await h.flags.handle(event, { consumer: 'notifier', streamSequence: seqCounter++ });
  await h.relay.drainOnce();
  return emitted;
};

/** Runs `body` once on SQLite and once on Postgres (a visible skip when Postgres is unreachable). */
function onEachDatabase(name: string, body: (h: Harness, t: TestContext, open: () => Promise<DataSource>) => Promise<void>): void {
  it(name, async (t) => {
    for (const db of await testDatabases()) {
      await t.test(db.kind, async (t2) => {
        if (db.unavailable !== undefined) {
          t2.skip(db.unavailable);
          return;
        }
        const open = () =>
          openNotifierDatabase(
            db.kind === 'sqlite' ? { dataDir: db.dataDir } : { databaseUrl: db.databaseUrl, dataDir: '.', schema: db.schema },
          );
        const opened: DataSource[] = [];
        const openTracked = async () => {
          const ds = await open();
          opened.push(ds);
          return ds;
        };
        try {
          await body(await harness(await openTracked(), t2), t2, openTracked);
        } finally {
          for (const ds of opened) await ds.destroy();
          await db.dispose();
        }
      });
    }
  });
}

describe('notifier flow against real SQLite/Postgres and a real SMTP server', () => {
  before(async () => {
    smtp = await startSmtpServer({ mode: 'accept' });
  });
  after(async () => {
    await smtp.dispose();
  });

  onEachDatabase(
    'flags: several types per user side by side, the same type twice stays one, a redelivery emits nothing more',
    async (h) => {
      await smtp.setMode('accept');
      const added = anEvent.userAdded({ userId: 'flag-1', email: 'flag1@example.com' });
      const [queued] = await deliver(h, added);
      assert.equal(queued?.type === 'idm.email.queued' ? queued.data.emailType : undefined, 'NEW_USER');
      await deliver(h, anEvent.userModified({ userId: 'flag-1', changes: { displayName: 'Ada K' } }));
      await deliver(h, anEvent.userModified({ userId: 'flag-1', changes: { displayName: 'Ada Kg' } }));
      await deliver(h, anEvent.passwordChanged({ userId: 'flag-1' }));
      assert.deepEqual(await h.pendingTypes('flag-1'), ['NEW_USER', 'PASSWORD_CHANGED', 'PROFILE_CHANGED']);
      assert.equal(h.sink.ofType('idm.email.queued').length, 3);

      const again = await deliver(h, added);
      assert.deepEqual(again, [], 'an inbox hit runs no work');
      assert.deepEqual(
        h.sink.ofType('idm.email.queued').filter((e) => e.id === queued?.id),
        [queued],
        'the EmailQueued reached the stream once, through the outbox',
      );
    },
  );

  onEachDatabase(
    'no address yet: NEW_USER waits until a UserModified brings the address, then greets by the kept display name',
    async (h) => {
      await smtp.setMode('accept');
      await smtp.clear();
      await deliver(h, anEvent.userAdded({ userId: 'nomail-1', email: undefined, displayName: 'Grace Hopper' }));
      assert.deepEqual(await h.pendingTypes('nomail-1'), ['NEW_USER']);
      const first = await h.tick();
      assert.equal(first.report.failed, 1);
      assert.equal(h.sink.ofType('idm.email.failed').at(-1)?.data.error, 'no email address known for the user yet');
      assert.equal((await smtp.messages()).length, 0);

      // The source reports the mail attribute once it appears; the display name was kept from UserAdded.
      await deliver(h, anEvent.userModified({ userId: 'nomail-1', email: 'grace@example.com', changes: { mail: 'grace@example.com' } }));
      const second = await h.tick();
      assert.equal(second.report.sent, 2, 'the waiting NEW_USER and the PROFILE_CHANGED the new address raised');
      const mails = await smtp.messages();
      assert.deepEqual(
        mails.map((m) => m.to),
        [['grace@example.com'], ['grace@example.com']],
      );
      assert.ok(
        mails.every((m) => /Grace Hopper/.test(m.text ?? '')),
        'both greet by the display name kept from UserAdded',
      );
    },
  );

  onEachDatabase(
    'UserRemoved: pending emails abandoned with the removal as last error, recipient forgotten; a redelivery changes nothing',
    async (h) => {
      await smtp.setMode('accept');
      await smtp.clear();
      await deliver(h, anEvent.userAdded({ userId: 'gone-1', email: 'gone1@example.com' }));
      await deliver(h, anEvent.passwordChanged({ userId: 'gone-1' }));
      assert.deepEqual(await h.pendingTypes('gone-1'), ['NEW_USER', 'PASSWORD_CHANGED']);

      const removed = anEvent.userRemoved({ userId: 'gone-1', reason: 'moved-out-of-scope' });
      const abandons = await deliver(h, removed);
      assert.deepEqual(
        abandons.map((e) => (e.type === 'idm.email.abandoned' ? [e.data.emailType, e.data.lastError, e.causationid] : e.type)),
        [
          ['NEW_USER', 'user removed from the source directory (moved-out-of-scope)', removed.id],
          ['PASSWORD_CHANGED', 'user removed from the source directory (moved-out-of-scope)', removed.id],
        ],
      );
      assert.equal(await new RecipientRepository().find(h.dataSource, 'gone-1'), undefined, 'the recipient is forgotten');
      assert.deepEqual(await h.pendingTypes('gone-1'), [], 'the flags are cleared in the commit that emits their EmailAbandoned');
      assert.deepEqual(
        h.sink.ofType('idm.email.abandoned').map((e) => e.id),
        abandons.map((e) => e.id),
        'the abandons were published by the relay',
      );
      assert.deepEqual(await deliver(h, removed), [], 'an inbox hit runs no work');
      assert.equal(h.sink.ofType('idm.email.abandoned').length, abandons.length, 'and publishes nothing more');
      assert.deepEqual(await deliver(h, removed), [], 'nothing left to abandon');
      const tick = await h.tick();
      assert.equal(tick.report.claimed, 0);
      assert.equal((await smtp.messages()).length, 0);
    },
  );

  onEachDatabase(
    'tick: sends every pending email once, each flag cleared by the commit that stores its EmailSent, an overlapping tick sends nothing',
    async (h) => {
      await smtp.setMode('accept');
      await smtp.clear();
      await deliver(h, anEvent.userAdded({ userId: 'tick-1', email: 'tick1@example.com', displayName: 'Tick <One>' }));
      await deliver(h, anEvent.passwordChanged({ userId: 'tick-1' }));
      await deliver(h, anEvent.userAdded({ userId: 'tick-2', email: 'tick2@example.com' }));
      await deliver(h, anEvent.passwordSyncFailed({ userId: 'tick-2', reason: 'policy-violation' }));

      const ignored = await h.tick('SomethingElse');
      assert.equal(ignored.report.claimed, 4, 'the service itself does not filter; the handler does');
      assert.equal(ignored.report.sent, 4);
      // Each outcome's commit cleared its flag and wrote its EmailSent (published by the relay since).
      assert.deepEqual(await h.pendingTypes('tick-1'), []);
      assert.deepEqual(await h.pendingTypes('tick-2'), []);
      assert.equal(await countOutboxRows(h.dataSource), 0, 'the relay published every outcome');

      const overlapping = await h.tick();
      assert.deepEqual(overlapping.report, { claimed: 0, sent: 0, failed: 0, abandoned: 0, skipped: 0 });
      const mails = await smtp.waitForMessages(4);
      assert.equal(mails.length, 4);
      const sent = h.sink.ofType('idm.email.sent');
      assert.equal(sent.length, 4);
      const queuedIds = h.sink.ofType('idm.email.queued').map((q) => q.id);
      for (const mail of mails)
        assert.ok(
          queuedIds.some((id) => mail.messageId === `<${id}@idm.example>`),
          `Message-ID ${mail.messageId} derives from an EmailQueued id`,
        );
      const syncMail = mails.find((m) => m.to[0] === 'tick2@example.com' && /could not be applied/.test(m.subject ?? ''));
      assert.match(syncMail?.text ?? '', /password policy/);
      const welcome = mails.find((m) => m.to[0] === 'tick1@example.com' && /Welcome/.test(m.subject ?? ''));
      assert.match(welcome?.html ?? '', /Tick &lt;One&gt;/);
    },
  );

  onEachDatabase('transient failure: EmailFailed keeps the flag, the next tick retries and sends', async (h) => {
    await deliver(h, anEvent.userAdded({ userId: 'temp-1', email: 'temp1@example.com' }));
    await smtp.setMode('tempfail', { stage: 'mail' });
    const first = await h.tick();
    assert.equal(first.report.failed, 1);
    const [row] = [await h.pendingEmails.find(h.dataSource, 'temp-1', 'NEW_USER')];
    assert.equal(row?.attempts, 1);
    assert.equal(row?.claimedTick, null);
    assert.match(row?.lastError ?? '', /451/);

    await smtp.setMode('accept');
    await smtp.clear();
    const second = await h.tick();
    assert.equal(second.report.sent, 1);
    const [sent] = h.sink.ofType('idm.email.sent');
    assert.equal(sent?.data.attempt, 2);
    assert.deepEqual(await h.pendingTypes('temp-1'), []);
  });

  onEachDatabase('permanent failure: 550 → EmailFailed(permanent) + EmailAbandoned, flag cleared, no endless retry', async (h) => {
    await deliver(h, anEvent.userAdded({ userId: 'perm-1', email: 'nobody@example.com' }));
    await smtp.setMode('reject', { rejectRecipients: ['nobody@example.com'] });
    const { report } = await h.tick();
    assert.equal(report.abandoned, 1);
    assert.deepEqual(
      h.sink.events.slice(-2).map((e) => e.type),
      ['idm.email.failed', 'idm.email.abandoned'],
    );
    assert.equal(h.sink.ofType('idm.email.failed')[0]?.data.permanent, true);
    assert.deepEqual(await h.pendingTypes('perm-1'), []);
    await smtp.setMode('accept');
  });

  onEachDatabase('limits: attempts used up or too old → EmailAbandoned without contacting the server', async (h) => {
    await smtp.setMode('accept');
    await smtp.clear();
    await deliver(h, anEvent.userAdded({ userId: 'old-1', email: 'old1@example.com' }));
    h.clock.set(new Date(FIXED_NOW.getTime() + 73 * HOUR));
    const { report } = await h.tick();
    assert.deepEqual(report, { claimed: 1, sent: 0, failed: 0, abandoned: 1, skipped: 0 });
    assert.equal((await smtp.messages()).length, 0);
    assert.deepEqual(await h.pendingTypes('old-1'), []);
  });

  onEachDatabase('unknown recipient: retried (transient) until a UserAdded brings the address', async (h) => {
    await smtp.setMode('accept');
    await deliver(h, anEvent.passwordChanged({ userId: 'late-1' }));
    const first = await h.tick();
    assert.equal(first.report.failed, 1);
    await deliver(h, anEvent.userAdded({ userId: 'late-1', email: 'late1@example.com' }));
    const second = await h.tick();
    assert.equal(second.report.sent, 2, 'PASSWORD_CHANGED and NEW_USER');
  });

  onEachDatabase(
    'a crashed instance: its claims are free once its lease lapsed (30 s, not the 15 min claim TTL), resent with the same Message-ID',
    async (h) => {
      await smtp.setMode('accept');
      await smtp.clear();
      await deliver(h, anEvent.userAdded({ userId: 'crash-1', email: 'crash1@example.com' }));
      // Another instance took a lease, claimed, and then died (kill -9): its claim and lease row stay.
      const leases = new InstanceLeaseRepository();
      await leases.register(h.dataSource, { instanceId: 'dead-instance', incarnation: 'i-1' }, h.clock.now(), new Date(0));
      const claimAt = (now: Date) => ({
        tickId: 'dead-tick',
        token: 'dead-token',
        owner: 'dead-instance',
        now,
        expiredBefore: new Date(now.getTime() - 900_000),
        lapsedBefore: new Date(now.getTime() - 30_000),
      });
      assert.equal(await h.pendingEmails.claim(h.dataSource, claimAt(h.clock.now())), 1);
      h.clock.set(new Date(FIXED_NOW.getTime() + 29_000));
      await h.heartbeat();
      assert.equal((await h.tick()).report.claimed, 0, 'the claim of an instance with a live lease is respected');
      h.clock.set(new Date(FIXED_NOW.getTime() + 31_000));
      await h.heartbeat();
      const { report } = await h.tick();
      assert.equal(report.sent, 1, 'taken over at the first tick after the lease lapsed');
      const [mail] = await smtp.waitForMessages(1);
      assert.equal(mail?.messageId, `<${h.sink.ofType('idm.email.queued')[0]?.id}@idm.example>`);
    },
  );

  onEachDatabase(
    "a restarted instance with a stable id releases its previous life's claims at start; the old life cannot take the lease back",
    async (h) => {
      await deliver(h, anEvent.userAdded({ userId: 'restart-1', email: 'restart1@example.com' }));
      await deliver(h, anEvent.userAdded({ userId: 'restart-2', email: 'restart2@example.com' }));
      const leases = new InstanceLeaseRepository();
      const now = h.clock.now();
      const claim = (owner: string, tickId: string) => ({
        tickId,
        token: `${tickId}-token`,
        owner,
        now,
        expiredBefore: new Date(now.getTime() - 900_000),
        lapsedBefore: new Date(now.getTime() - 30_000),
      });
      await leases.register(h.dataSource, { instanceId: 'pod-0', incarnation: 'life-1' }, now, new Date(0));
      assert.equal(await h.pendingEmails.claim(h.dataSource, claim('pod-0', 'tick-life-1')), 2);
      assert.equal(
        await leases.register(h.dataSource, { instanceId: 'pod-0', incarnation: 'life-2' }, now, new Date(0)),
        2,
        'both claims released at the restart',
      );
      assert.equal(
        await leases.heartbeat(h.dataSource, { instanceId: 'pod-0', incarnation: 'life-1' }, now),
        'taken-over',
        'the old life cannot take the lease back',
      );
      assert.equal(await leases.heartbeat(h.dataSource, { instanceId: 'pod-0', incarnation: 'life-2' }, now), 'renewed');
      assert.equal(await h.pendingEmails.claim(h.dataSource, claim('pod-0', 'tick-life-2')), 2);
      assert.equal((await leases.all(h.dataSource)).find((l) => l.instanceId === 'pod-0')?.incarnation, 'life-2');
    },
  );

  onEachDatabase('two replicas ticking at once never send one email twice; sends are bounded by the concurrency', async (h, _t, open) => {
    await smtp.setMode('accept');
    await smtp.clear();
    const users = 60;
    for (let i = 0; i < users; i++) await deliver(h, anEvent.userAdded({ userId: `bulk-${i}`, email: `bulk${i}@example.com` }));
    // Postgres: a second DataSource is a second replica. SQLite is single-process by design (two
    // connections in one process would block each other's synchronous locks), so there two runs share it.
    const replica = h.dataSource.options.type === 'postgres' ? await open() : h.dataSource;
    const [a, b] = await Promise.all([h.tick(undefined, { concurrency: 3 }), h.tick(undefined, { concurrency: 3, dataSource: replica })]);
    assert.equal(a.report.claimed + b.report.claimed, users);
    assert.equal(a.report.sent + b.report.sent, users);
    assert.ok(h.transport.maxInFlight <= 6, `at most 3 per run in flight, saw ${h.transport.maxInFlight}`);
    const mails = await smtp.waitForMessages(users);
    assert.equal(mails.length, users);
    assert.equal(new Set(mails.map((m) => m.to[0])).size, users);
  });

  onEachDatabase(
    'outcomes finishing together commit together, each with its events; a claim taken over stores nothing; a cleared row only emits',
    async (h) => {
      const users = ['batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-5'];
      for (const userId of users) await deliver(h, anEvent.userAdded({ userId, email: `${userId}@example.com` }));
      const now = h.clock.now();
      const claim = {
        tickId: 'tick-b',
        token: 'token-b',
        owner: 'spec-instance',
        now,
        expiredBefore: new Date(0),
        lapsedBefore: new Date(0),
      };
      assert.equal(await h.pendingEmails.claim(h.dataSource, claim), 5);
      // batch-5's claim goes to another run (as when this instance was thought dead).
      const [taken] = await h.pendingEmails.claimed(h.dataSource, 'token-b').then((all) => all.filter((p) => p.userId === 'batch-5'));
      await h.pendingEmails.release(h.dataSource, 'token-b', [taken!]);
      assert.equal(await h.pendingEmails.claim(h.dataSource, { ...claim, tickId: 'tick-other', token: 'token-other' }), 1);

      const sent = ['batch-1', 'batch-2', 'batch-3', 'batch-5', 'batch-none'].map(
        (userId) => anEvent.emailSent({ userId, emailType: 'NEW_USER', tick: 'tick-b' }) as DeliveryEvent,
      );
      const failed = anEvent.emailFailed({
        userId: 'batch-4',
        emailType: 'NEW_USER',
        tick: 'tick-b',
        attempt: 1,
        error: '451 later',
      }) as DeliveryEvent;
      const outcomes = [...sent.slice(0, 3), failed, ...sent.slice(3)].map((event) => ({
        email: { userId: event.data.userId, emailType: event.data.emailType },
        claimToken: 'token-b',
        events: [event],
      }));
      const first = await Promise.all(outcomes.map((o) => h.outcomes.store(o)));
      assert.deepEqual(first, ['stored', 'stored', 'stored', 'stored', 'claim-lost', 'stored']);
      for (const userId of ['batch-1', 'batch-2', 'batch-3']) assert.deepEqual(await h.pendingTypes(userId), [], userId);
      const row = await h.pendingEmails.find(h.dataSource, 'batch-4', 'NEW_USER');
      assert.deepEqual([row?.attempts, row?.lastError, row?.claimToken], [1, '451 later', null], 'counted, and the claim given back');
      assert.equal(
        (await h.pendingEmails.find(h.dataSource, 'batch-5', 'NEW_USER'))?.claimToken,
        'token-other',
        "the other run's claim is untouched",
      );
      assert.equal(await countOutboxRows(h.dataSource), 5, 'the events of the stored outcomes, none for the lost claim');
      await h.relay.drainOnce();
      assert.deepEqual(
        h.sink.events
          .filter((e) => e.type !== 'idm.email.queued')
          .map((e) => e.subject)
          .sort(),
        ['batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-none'],
      );

      const again = await Promise.all(outcomes.map((o) => h.outcomes.store(o)));
      assert.deepEqual(again, ['stored', 'stored', 'stored', 'claim-lost', 'claim-lost', 'stored'], 'cleared rows only emit again');
      assert.equal((await h.pendingEmails.find(h.dataSource, 'batch-4', 'NEW_USER'))?.attempts, 1, 'the failure was not counted twice');
    },
  );

  onEachDatabase('replay of what the stream holds gives the table the live flags and ticks wrote', async (h) => {
    await smtp.setMode('reject', { rejectRecipients: ['live-4@example.com'] });
    const log: IdmEvent[] = [];
    const live = async (event: IdmEvent): Promise<void> => {
      const published = h.sink.events.length;
      await deliver(h, event);
      log.push(event, ...h.sink.events.slice(published));
    };
    const tick = async (): Promise<void> => {
      const published = h.sink.events.length;
      await h.tick();
      log.push(...h.sink.events.slice(published));
    };
    const users = ['live-1', 'live-2', 'live-3', 'live-4'];
    await live(anEvent.userAdded({ userId: 'live-1', email: 'live-1@example.com' }));
    await live(anEvent.userAdded({ userId: 'live-2', email: undefined, displayName: 'No Mail' }));
    await live(anEvent.userAdded({ userId: 'live-3', email: 'live-3@example.com' }));
    await live(anEvent.userAdded({ userId: 'live-4', email: 'live-4@example.com' }));
    await live(anEvent.passwordChanged({ userId: 'live-1' }));
    await tick(); // live-1 ×2 and live-3 sent, live-2 failed (no address), live-4 rejected → abandoned
    await live(anEvent.passwordChanged({ userId: 'live-3' }));
    await live(anEvent.userRemoved({ userId: 'live-3', reason: 'deleted' }));
    await live(anEvent.passwordChanged({ userId: 'live-4' }));
    await tick(); // live-2 fails again, live-4's PASSWORD_CHANGED is rejected too
    await smtp.setMode('accept');

    const contexts = new Map<string, Readonly<Record<string, string>>>();
    const replayed = new Map<string, NotifierUserState>();
    log.forEach((event, seq) => {
      const context = causeContextOf(event);
      if (context) contexts.set(event.id, context);
      replayed.set(event.subject, evolveNotifierUser(replayed.get(event.subject) ?? EMPTY_USER_STATE, event, seq + 1, contexts));
    });
    const shape = (p: PendingEmail) => [p.userId, p.emailType, p.queuedEventId, p.attempts, p.lastError, p.claimToken, p.context];
    const fromReplay = users.flatMap((u) => [...(replayed.get(u)?.pending.values() ?? [])].map(shape)).sort();
    const fromLive: unknown[][] = [];
    for (const userId of users)
      for (const type of await h.pendingTypes(userId)) fromLive.push(shape((await h.pendingEmails.find(h.dataSource, userId, type))!));
    assert.deepEqual(fromLive.sort(), fromReplay);
    assert.deepEqual(
      fromLive.map((row) => [row[0], row[1], row[3]]),
      [['live-2', 'NEW_USER', 2]],
      'only the email without an address is left, after two attempts',
    );
  });

  onEachDatabase(
    'claims renewed a page at a time: a page with a lost claim is reported, and that email alone fails its renewal',
    async (h) => {
      for (const userId of ['page-1', 'page-2', 'page-3']) await deliver(h, anEvent.userAdded({ userId, email: `${userId}@example.com` }));
      const now = h.clock.now();
      assert.equal(
        await h.pendingEmails.claim(h.dataSource, {
          tickId: 'tick-p',
          token: 'token-p',
          owner: 'spec-instance',
          now,
          expiredBefore: new Date(0),
          lapsedBefore: new Date(0),
        }),
        3,
      );
      const page = await h.pendingEmails.claimed(h.dataSource, 'token-p');
      assert.equal(await h.pendingEmails.renewClaims(h.dataSource, page, 'token-p', now), true);
      assert.equal(await h.pendingEmails.renewClaims(h.dataSource, page, 'other-token', now), false, 'another run renews nothing of ours');
      const page2 = anEvent.emailSent({ userId: 'page-2', emailType: 'NEW_USER', tick: 'tick-p' }) as DeliveryEvent;
      assert.equal(await h.outcomes.store({ email: page[1]!, claimToken: 'token-p', events: [page2] }), 'stored');
      assert.equal(await h.pendingEmails.renewClaims(h.dataSource, page, 'token-p', now), false);
      const alone = await Promise.all(page.map((p) => h.pendingEmails.renewClaim(h.dataSource, p, 'token-p', now)));
      assert.deepEqual(
        page.map((p, i) => [p.userId, alone[i]]),
        [
          ['page-1', true],
          ['page-2', false],
          ['page-3', true],
        ],
      );
    },
  );

  onEachDatabase(
    'a publish failure after the commit: the handler and the tick succeed, the relay keeps their events and publishes them later; a tick whose outcome cannot be stored gives its claims back',
    async (h) => {
      await smtp.setMode('accept');
      const added = anEvent.userAdded({ userId: 'pub-1', email: 'pub1@example.com' });
      const [queued] = await h.flags.handle(added, { consumer: 'notifier', streamSequence: seqCounter++ });
      h.sink.failNext = true;
      await assert.rejects(h.relay.drainOnce(), /nats unavailable/);
      assert.deepEqual(await h.pendingTypes('pub-1'), ['NEW_USER'], 'state and inbox were committed');
      assert.equal(await countOutboxRows(h.dataSource), 1, 'the event waits in the outbox, not in the handler');
      assert.equal(await h.relay.drainOnce(), 1);
      assert.deepEqual(
        h.sink.ofType('idm.email.queued').filter((e) => e.id === queued?.id),
        [queued],
      );
      assert.equal(await countOutboxRows(h.dataSource), 0);

      const refused = new RefusingRepository();
      refused.refuseOutcomes = true;
      await assert.rejects(h.tick(undefined, { service: h.service(refused) }), /database refused the outcome/);
      assert.equal(h.sink.ofType('idm.email.sent').length, 0, 'no event for an outcome that was not stored');
      const retry = await h.tick();
      assert.equal(
        retry.report.sent,
        1,
        'the failed run released its claim: the retried tick sends at once (at-least-once, same Message-ID)',
      );
      assert.deepEqual(await h.pendingTypes('pub-1'), [], 'stored: the flag is cleared');

      await deliver(h, anEvent.passwordChanged({ userId: 'pub-1' }));
      h.sink.failNext = true;
      const published = h.sink.events.length;
      const { report } = await h.tick();
      assert.equal(report.sent, 1, 'NATS failing does not fail the tick: the outcome is stored, its event waits in the outbox');
      assert.deepEqual(await h.pendingTypes('pub-1'), []);
      assert.equal(h.sink.events.length, published, 'nothing reached the stream yet');
      assert.equal(await h.relay.drainOnce(), 1);
      assert.equal(h.sink.ofType('idm.email.sent').at(-1)?.data.emailType, 'PASSWORD_CHANGED');
    },
  );

  onEachDatabase(
    'the flag shell: recipient, flag, inbox row and outbox row commit together; a failing save rolls them all back and propagates',
    async (h) => {
      class FailingSave extends PendingEmailRepository {
        fail = true;
        override async saveMany(...args: Parameters<PendingEmailRepository['saveMany']>): Promise<void> {
          if (this.fail) throw new Error('database went away');
          return super.saveMany(...args);
        }
      }
      const pendingEmails = new FailingSave();
      const flags = new EmailFlagService({
        outbox: h.outbox,
        recipients: new RecipientRepository(),
        pendingEmails,
        clock: h.clock,
        rules: DEFAULT_EMAIL_RULES,
        source: '/idm/notifier',
      });
      const added = anEvent.userAdded({ userId: 'shell-1', email: 'shell1@example.com' });
      const delivery = { consumer: 'notifier', streamSequence: seqCounter++ };
      await assert.rejects(flags.handle(added, delivery), /database went away/, 'the error reaches the transport (nak)');
      assert.equal(await new RecipientRepository().find(h.dataSource, 'shell-1'), undefined, 'no recipient');
      assert.equal(await Inbox.seen(h.dataSource, 'notifier', added.id), false, 'no inbox row');
      assert.equal(await countOutboxRows(h.dataSource), 0, 'no outbox row');

      pendingEmails.fail = false;
      const emitted = await flags.handle(added, delivery);
      assert.equal(emitted.length, 1);
      assert.ok(await new RecipientRepository().find(h.dataSource, 'shell-1'), 'the recipient');
      assert.deepEqual(await h.pendingTypes('shell-1'), ['NEW_USER'], 'the flag');
      assert.equal(await Inbox.seen(h.dataSource, 'notifier', added.id), true, 'the inbox row');
      assert.equal(await countOutboxRows(h.dataSource), 1, 'the outbox row, all in one commit');

      pendingEmails.fail = true;
      assert.deepEqual(await flags.handle(added, delivery), [], 'an inbox hit: no work, so the failing save is not even reached');
      assert.equal(await countOutboxRows(h.dataSource), 1, 'and no new outbox row');
    },
  );

  onEachDatabase('an outcome whose commit fails for a moment is retried: the tick succeeds, nothing is sent twice', async (h) => {
    await smtp.setMode('accept');
    await smtp.clear();
    await deliver(h, anEvent.userAdded({ userId: 'blip-1', email: 'blip1@example.com' }));
    class BlippingRepository extends RefusingRepository {
      refusals = 2;
      override async deleteKeys(...args: Parameters<PendingEmailRepository['deleteKeys']>): Promise<void> {
        this.refuseOutcomes = this.refusals-- > 0;
        return super.deleteKeys(...args);
      }
    }
    const repository = new BlippingRepository();
    const { report } = await h.tick(undefined, { service: h.service(repository, 10_000) });
    assert.deepEqual([report.sent, repository.refusals], [1, -1], 'stored at the third commit');
    assert.deepEqual(await h.pendingTypes('blip-1'), []);
    assert.equal((await h.tick()).report.claimed, 0);
    await smtp.waitForMessages(1);
    assert.equal((await smtp.messages()).length, 1, 'one email');
  });

  onEachDatabase('a failed tick whose release fails too (database refusing) gives the claims back before its next claim', async (h) => {
    await smtp.setMode('accept');
    await deliver(h, anEvent.userAdded({ userId: 'rel-1', email: 'rel1@example.com' }));
    const repository = new RefusingRepository();
    repository.refuse = true;
    repository.refuseOutcomes = true;
    const service = h.service(repository);
    await assert.rejects(
      h.tick(undefined, { service }),
      /database refused the outcome/,
      "the tick fails with its own error, not the release's",
    );
    repository.refuseOutcomes = false;
    assert.equal((await h.tick()).report.claimed, 0, 'the claim is still held (its owner is alive)');
    await assert.rejects(
      h.tick(undefined, { service }),
      /database refused the release/,
      'while the database refuses, the run fails before claiming',
    );
    repository.refuse = false;
    const { report } = await h.tick(undefined, { service });
    assert.deepEqual([report.claimed, report.sent], [1, 1], 'leftovers released first, then claimed and sent');
  });
});
