import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { CommandSubjects, createEvent, EventTypes, type IdmEvent, type PasswordChangeReply } from '@idm/contracts';
import { connectNats, EventPublisher } from '@idm/messaging';
import {
  secretLeaks,
  startNatsServer,
  startSmtpServer,
  storedEvents,
  tempDir,
  waitFor,
  type NatsServerHandle,
  type ReceivedMail,
  type SmtpServerHandle,
} from '@idm/testing';
import { startApp, type AppProcess } from './app-process.fixture.js';

/**
 * The directory password-sync writes to in {@link describePasswordSyncScenarios}: its settings
 * for the app and what the scenarios do to it. Its policy must refuse passwords shorter than 8.
 */
export interface ScenarioDirectory {
  /** `PASSWORD_TARGET*` variables for password-sync (bound as a non-admin service account). */
  readonly targetEnv: Readonly<Record<string, string>>;
  /** The directory's reason for a seven-character password, as it lands in `PasswordSyncFailed`. */
  readonly policyMessage: RegExp;
  /** Creates the account `userId`, with `password` or one nobody knows. */
  addUser(userId: string, password?: string): Promise<void>;
  /** A bind as `userId` with `password` succeeds: the proof a password was applied. */
  canBind(userId: string, password: string): Promise<boolean>;
  /** The directory goes down (connections refused) and comes back with its data. */
  halt(): Promise<void>;
  resume(): Promise<void>;
  dispose(): Promise<void>;
}

const tag = () => randomBytes(4).toString('hex');

/** Every encoding a careless write could use. */
function leaksOf(canaries: readonly string[], haystack: Buffer | string): string[] {
  return secretLeaks(haystack, canaries);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/**
 * The seed's password-sync scenarios end to end: password-sync and the notifier as separate
 * processes (`node dist/apps/<app>/main.js`), a real nats-server, a real directory (see
 * {@link ScenarioDirectory}), a real SMTP server. Then a canary check: no password sent in any of
 * these paths is left in plaintext in the stream's files, the databases, the apps' output, the
 * events, the emails or the replies. `skip` is a visible skip with its reason.
 */
export function describePasswordSyncScenarios(
  directoryName: string,
  startDirectory: () => Promise<ScenarioDirectory>,
  skip?: string,
): void {
  describe(
    `password-sync + notifier as processes against ${directoryName}: the seed scenarios, failure emails, no plaintext anywhere`,
    { skip },
    () => {
      let nats: NatsServerHandle;
      let directory: ScenarioDirectory;
      let smtp: SmtpServerHandle;
      let passwordSync: AppProcess;
      let notifier: AppProcess;
      let nc: NatsConnection;
      let jsm: JetStreamManager;
      let publisher: EventPublisher;
      let workDir: string;
      const stream = `E2E_PW_${tag().toUpperCase()}`;
      const replies: string[] = [];
      // Each canary travels one path; if any byte sequence of them shows up later, a secret leaked.
      // None contains a user id (AD's complexity rule refuses a password holding the account name).
      const CANARY = {
        early: `Ea-${tag()}-Canary1`,
        late: `La-${tag()}-Canary2`,
        contractor: `Co-${tag()}-Canary3`,
        // Seven characters: the directory's minimum of 8 refuses them.
        markusShort: `M${tag()}`.slice(0, 6) + '!',
        markusGood: `Mg-${tag()}-Canary4`,
        petraShort: `P${tag()}`.slice(0, 6) + '!',
        outage: `Ou-${tag()}-Canary5`,
      };
      const leaks = (haystack: Buffer | string): string[] => leaksOf(Object.values(CANARY), haystack);
      let ticks = 0;

      before(async () => {
        [nats, directory, smtp] = await Promise.all([
          startNatsServer({ jetstream: true }),
          startDirectory(),
          startSmtpServer({ mode: 'accept' }),
        ]);
        workDir = tempDir('e2e-password-sync');
        // HEALTH_PORT=off: the apps' fixed default ports would collide with other tests running in parallel.
        const common = { NATS_URL: nats.url, IDM_STREAM: stream, IDM_ACK_WAIT_SECONDS: '10', HEALTH_PORT: 'off' };
        passwordSync = await startApp(
          'password-sync',
          {
            ...common,
            DATA_DIR: join(workDir, 'password-sync-data'),
            PASSWORD_CACHE_KEY: randomBytes(32).toString('base64'),
            PASSWORD_TARGET_TIMEOUT_MS: '3000',
            ...directory.targetEnv,
            // 45 s, above the floor of 3 × 1 s polling: short enough for the expiry scenarios to run here.
            PASSWORD_EXPIRATION_MINUTES: '0.75',
            SOURCE_POLLING_INTERVAL_SECONDS: '1',
            PASSWORD_SWEEP_INTERVAL_SECONDS: '0.5',
          },
          workDir,
        );
        notifier = await startApp(
          'notifier',
          {
            ...common,
            DATA_DIR: join(workDir, 'notifier-data'),
            SMTP_URL: smtp.url,
            MAIL_FROM: 'IDM <noreply@idm.example>',
            // Only the failure email: the others would only make the mailbox harder to read.
            EMAIL_RULES: JSON.stringify({ UserAdded: [], UserModified: [], PasswordChanged: [] }),
          },
          workDir,
        );
        nc = await connectNats({ url: nats.url, name: 'e2e-password-sync' });
        jsm = await jetstreamManager(nc);
        publisher = new EventPublisher(jetstream(nc));
      });

      after(async () => {
        await passwordSync?.stop();
        await notifier?.stop();
        await nc?.close();
        await Promise.all([directory?.dispose(), smtp?.dispose(), nats?.dispose()]);
        if (workDir) rmSync(workDir, { recursive: true, force: true });
      });

      async function change(userId: string, password: string): Promise<PasswordChangeReply> {
        const msg = await nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId, password }), { timeout: 20_000 });
        replies.push(msg.string());
        const reply = msg.json<PasswordChangeReply>();
        if (reply.ok) {
          // The reply comes after the commit; password-sync's outbox relay publishes right after it:
          // PasswordChanged and the first attempt's outcome (same correlation id).
          await waitFor(async () => (await passwordEvents(userId)).filter((e) => e.correlationid === reply.eventId).length >= 2, {
            timeoutMs: 30_000,
            message: `the events of password change ${reply.eventId}`,
          });
        }
        return reply;
      }

      const events = (): Promise<IdmEvent[]> => storedEvents(jsm, stream);
      const passwordEvents = async (userId: string) =>
        (await events()).filter((e) => e.subject === userId && e.type.startsWith('idm.password.'));
      const failures = async (userId: string) => (await passwordEvents(userId)).filter((e) => e.type === EventTypes.PasswordSyncFailed);
      const waitForEvent = (userId: string, type: string, count = 1) =>
        waitFor(async () => (await passwordEvents(userId)).filter((e) => e.type === type).length >= count, {
          timeoutMs: 30_000,
          message: `${count} × ${type} for ${userId}`,
        });

      const at = () => new Date().toISOString();
      const userAdded = (userId: string) =>
        publisher.publish(
          createEvent(
            EventTypes.UserAdded,
            userId,
            { userId, email: `${userId}@example.com`, displayName: userId },
            { source: '/e2e', time: at() },
          ),
        );
      const userModified = (userId: string) =>
        publisher.publish(
          createEvent(EventTypes.UserModified, userId, { userId, changes: { title: `t-${tag()}` } }, { source: '/e2e', time: at() }),
        );
      /** A retry tick for the notifier, as the scheduler would send it. */
      async function tick(): Promise<void> {
        ticks++;
        await publisher.publish(
          createEvent(
            EventTypes.BulkTaskTick,
            'email-retry',
            { schedule: 'email-retry', task: 'RetryEmailNotifications', scheduledFor: at(), firedAt: at(), catchUp: false },
            { source: '/e2e', time: at(), id: `tick-${stream}-${ticks}` },
          ),
        );
      }
      /** Waits until every `EmailQueued` for the user has been sent, and returns the user's mails. */
      async function mailsTo(userId: string, expected: number): Promise<ReceivedMail[]> {
        return waitFor(
          async () => {
            const mails = (await smtp.messages()).filter((m) => m.to.includes(`${userId}@example.com`));
            return mails.length >= expected ? mails : undefined;
          },
          { timeoutMs: 30_000, message: `${expected} mails to ${userId}` },
        );
      }
      /** The consumer has settled everything delivered so far. */
      const caughtUp = (consumer: string) =>
        waitFor(
          async () => {
            const info = await jsm.consumers.info(stream, consumer);
            return info.num_pending === 0 && info.num_ack_pending === 0;
          },
          { timeoutMs: 30_000, message: `${consumer} caught up` },
        );
      /** The notifier has taken in every failure so far (queued, or absorbed by a pending flag). */
      const notifierCaughtUp = () => caughtUp('notifier');
      /** A tick has sent what was due and the notifier has cleared the flags, so the next failure raises a new one. */
      async function tickAndSettle(userId: string, mails: number): Promise<ReceivedMail[]> {
        await notifierCaughtUp();
        await tick();
        await caughtUp('notifier-ticks');
        const received = await mailsTo(userId, mails);
        await waitFor(async () => (await events()).filter((e) => e.type === EventTypes.EmailSent && e.subject === userId).length >= mails, {
          timeoutMs: 30_000,
          message: `${mails} × EmailSent for ${userId}`,
        });
        await notifierCaughtUp();
        return received;
      }
      const mailCount = async (userId: string) => (await smtp.messages()).filter((m) => m.to.includes(`${userId}@example.com`)).length;

      it('refuses to start without a cache key outside the embedded mode, naming the variables', async () => {
        const dir = tempDir('e2e-no-key');
        try {
          await assert.rejects(
            startApp(
              'password-sync',
              { NATS_URL: nats.url, IDM_STREAM: stream, HEALTH_PORT: 'off', DATA_DIR: dir, PASSWORD_TARGET: 'nats:connector.password' },
              dir,
            ),
            /exited during start-up[\s\S]*no password cache key: set PASSWORD_CACHE_KEY/,
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

      it('starts the passwords that must expire: a contractor who never gets an account, and Petra who never fixes hers', async () => {
        // Known to the notifier, so Petra's failure email has an address.
        await userAdded('petra');
        await directory.addUser('petra', 'Initial-Passw0rd');
        assert.equal((await change('contractor', CANARY.contractor)).ok, true);
        assert.equal((await change('petra', CANARY.petraShort)).ok, true);
        const petra = (await failures('petra'))[0];
        assert.equal(petra?.type === EventTypes.PasswordSyncFailed && petra.data.reason, 'policy-violation');
      });

      it('1. password before the account: cached as user-not-found, applied on UserAdded', async () => {
        const reply = await change('early', CANARY.early);
        assert.equal(reply.ok, true);
        const first = await passwordEvents('early');
        assert.deepEqual(
          first.map((e) => e.type),
          [EventTypes.PasswordChanged, EventTypes.PasswordSyncFailed],
        );
        assert.equal(first[0]!.id, reply.ok ? reply.eventId : undefined);
        assert.equal(first[1]!.type === EventTypes.PasswordSyncFailed && first[1]!.data.reason, 'user-not-found');

        await directory.addUser('early');
        await userAdded('early');
        await waitForEvent('early', EventTypes.PasswordSynced);
        assert.equal(await directory.canBind('early', CANARY.early), true);
      });

      it('2. account created late, across a restart of password-sync: the cache survives and is applied when the user appears', async () => {
        assert.equal((await change('late', CANARY.late)).ok, true);
        // A modification while the account still does not exist: tried again, still not found.
        await userModified('late');
        await waitForEvent('late', EventTypes.PasswordSyncFailed, 2);

        await passwordSync.restart();

        await directory.addUser('late');
        await userAdded('late');
        await waitForEvent('late', EventTypes.PasswordSynced);
        const synced = (await passwordEvents('late')).find((e) => e.type === EventTypes.PasswordSynced);
        assert.equal(synced?.type === EventTypes.PasswordSynced && synced.data.attempt, 3);
        assert.equal(await directory.canBind('late', CANARY.late), true);
      });

      it('4. a six-character password: policy-violation and an email; each retry on UserModified fails again with another email; a compliant one syncs', async () => {
        await directory.addUser('markus', 'Initial-Passw0rd');
        await userAdded('markus');
        assert.equal((await change('markus', CANARY.markusShort)).ok, true);
        const [failed] = await failures('markus');
        assert.ok(failed?.type === EventTypes.PasswordSyncFailed);
        assert.equal(failed.data.reason, 'policy-violation');
        assert.match(failed.data.message ?? '', directory.policyMessage);
        assert.equal(failed.data.attempt, 1);
        assert.ok(failed.data.expiresAt, 'the failure says until when the password stays cached');

        const [mail] = await tickAndSettle('markus', 1);
        assert.equal(mail?.subject, 'Your new password could not be applied everywhere');
        assert.match(mail?.text ?? '', /Why: .*polic/i, 'the email says why');
        assert.match(mail?.text ?? '', /What to do: \S/, 'the email says what to do');

        await userModified('markus');
        await waitForEvent('markus', EventTypes.PasswordSyncFailed, 2);
        await tickAndSettle('markus', 2);

        // Two retries between two ticks: two failures, one email.
        await userModified('markus');
        await waitForEvent('markus', EventTypes.PasswordSyncFailed, 3);
        await userModified('markus');
        await waitForEvent('markus', EventTypes.PasswordSyncFailed, 4);
        await tickAndSettle('markus', 3);
        assert.equal(await mailCount('markus'), 3);

        assert.equal((await change('markus', CANARY.markusGood)).ok, true);
        assert.equal((await passwordEvents('markus')).at(-1)?.type, EventTypes.PasswordSynced);
        assert.equal(await directory.canBind('markus', CANARY.markusGood), true);
        assert.equal(await directory.canBind('markus', CANARY.markusShort), false);
      });

      it('target down: retried with backoff by the sweeper, applied when the directory is back', async () => {
        await directory.addUser('outage', 'Initial-Passw0rd');
        await directory.halt();
        try {
          assert.equal((await change('outage', CANARY.outage)).ok, true);
          const [failed] = await failures('outage');
          assert.equal(failed?.type === EventTypes.PasswordSyncFailed && failed.data.reason, 'target-unavailable');
          // The first backoff step (5 s) passes while the directory is still down: another failure, no user event needed.
          await waitForEvent('outage', EventTypes.PasswordSyncFailed, 2);
        } finally {
          await directory.resume();
        }
        await waitForEvent('outage', EventTypes.PasswordSynced);
        assert.equal(await directory.canBind('outage', CANARY.outage), true);
      });

      it('3. account never created: PasswordExpired (by the restarted process: expiry survives a restart), and a later UserAdded finds nothing', async () => {
        await waitFor(async () => (await passwordEvents('contractor')).some((e) => e.type === EventTypes.PasswordExpired), {
          timeoutMs: 90_000,
          message: 'contractor expired',
        });
        await directory.addUser('contractor');
        await userAdded('contractor');
        // Marker: handled after the contractor's UserAdded by the same consumer.
        await userModified('early');
        await caughtUp('password-sync');
        assert.equal((await passwordEvents('contractor')).at(-1)?.type, EventTypes.PasswordExpired);
        assert.equal(await directory.canBind('contractor', CANARY.contractor), false);
      });

      it('4b. without a compliant password, expiry ends the retries (and the emails)', async () => {
        await waitFor(async () => (await passwordEvents('petra')).some((e) => e.type === EventTypes.PasswordExpired), {
          timeoutMs: 90_000,
          message: 'petra expired',
        });
        // Petra's one failure was emailed by an earlier tick; expiry sends nothing more.
        await tickAndSettle('petra', 1);
        const before = (await failures('petra')).length;
        await userModified('petra');
        await userModified('early');
        await caughtUp('password-sync');
        await tickAndSettle('petra', 1);
        assert.equal(await mailCount('petra'), 1);
        assert.equal((await failures('petra')).length, before, 'no attempt after expiry');
        assert.equal((await passwordEvents('petra')).at(-1)?.type, EventTypes.PasswordExpired);
      });

      it('leaves no canary password in the stream store, the databases, the logs, the events, the emails or the replies', async () => {
        const all = await events();
        const mails = await smtp.messages();
        assert.ok(all.some((e) => e.type === EventTypes.PasswordSynced));
        await passwordSync.stop();
        await notifier.stop();
        // Graceful: JetStream writes everything it holds to the store files.
        await nats.stop();

        const storeFiles = filesUnder(nats.storeDir);
        assert.ok(storeFiles.length > 0);
        for (const f of storeFiles) assert.deepEqual(leaks(readFileSync(f)), [], `canary in nats store file ${f}`);
        // A sanity check of the grep itself: event data is in the store files in readable form.
        assert.ok(
          storeFiles.some((f) => readFileSync(f).includes('idm.password.sync-failed')),
          'the store holds the events readably',
        );

        const dataFiles = filesUnder(workDir).filter((f) => !f.endsWith('.log'));
        assert.ok(dataFiles.some((f) => f.endsWith('password-sync.sqlite')));
        for (const f of dataFiles) assert.deepEqual(leaks(readFileSync(f)), [], `canary in ${f}`);

        const logs = passwordSync.log() + notifier.log();
        assert.match(passwordSync.log(), /not applied .*policy-violation/, 'the log holds the attempts');
        assert.deepEqual(leaks(logs), [], 'canary in an app log');
        assert.deepEqual(leaks(JSON.stringify(all)), [], 'canary in an event');
        assert.deepEqual(leaks(mails.map((m) => m.raw).join('\n')), [], 'canary in an email');
        assert.deepEqual(leaks(replies.join('\n')), [], 'canary in a reply');
      });
    },
  );
}
