import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createEvent, EventTypes, type IdmEventOf } from '@idm/contracts';
import { testDatabases, waitFor, type PostgresTestDatabase, type SqliteTestDatabase } from '@idm/testing';
import { EmailStack } from './email-stack.js';

// The whole email path as it runs in production: scheduler and notifier as separate processes
// (`node dist/apps/<app>/main.js`), a real nats-server, a real SMTP server process, and the
// notifier's tables on SQLite and on Postgres. Every test has its own servers and stream.

const WAIT = { timeoutMs: 60_000 };
const now = () => new Date().toISOString();

function userAdded(userId: string, email: string, displayName?: string): IdmEventOf<'idm.user.added'> {
  return createEvent(
    EventTypes.UserAdded,
    userId,
    { userId, email, ...(displayName ? { displayName } : {}) },
    { source: '/e2e/directory', time: now() },
  );
}

/** A retry tick as the scheduler would append it; the specs that need exact tick boundaries fire their own. */
function retryTick(stack: EmailStack, n: number): IdmEventOf<'idm.bulk-task.tick'> {
  const at = now();
  return createEvent(
    EventTypes.BulkTaskTick,
    'email-retry',
    { schedule: 'email-retry', task: 'RetryEmailNotifications', scheduledFor: at, firedAt: at, catchUp: false },
    { source: '/e2e/operator', time: at, id: `tick-${stack.stream}-${n}` },
  );
}

/** Appends a tick and waits until the notifier has finished it (acked by its tick consumer). */
async function tickAndWait(stack: EmailStack, n: number): Promise<IdmEventOf<'idm.bulk-task.tick'>> {
  const tick = retryTick(stack, n);
  await stack.waitUntilTicksHandled(await stack.log.publish(tick));
  return tick;
}

type Db = SqliteTestDatabase | PostgresTestDatabase;

/** Runs `body` on SQLite and on Postgres (a visible skip when Postgres is unreachable), each with a fresh stack. */
function onEachDatabase(
  name: string,
  body: (stack: EmailStack, t: TestContext) => Promise<void>,
  kinds: readonly Db['kind'][] = ['sqlite', 'postgres'],
): void {
  it(name, async (t) => {
    for (const db of await testDatabases()) {
      if (!kinds.includes(db.kind)) {
        if (db.unavailable === undefined) await db.dispose();
        continue;
      }
      await t.test(db.kind, async (t2) => {
        if (db.unavailable !== undefined) {
          t2.skip(db.unavailable);
          return;
        }
        const stack = await EmailStack.start(db);
        try {
          await body(stack, t2);
        } catch (err) {
          t2.diagnostic(stack.logs());
          throw err;
        } finally {
          await stack.dispose();
        }
      });
    }
  });
}

describe('email pipeline end to end (scheduler + notifier processes, nats-server, SMTP server)', () => {
  onEachDatabase(
    'UserAdded, then the scheduler ticks every second: exactly one NEW_USER email, escaped HTML, EmailSent appended, flag gone',
    async (stack) => {
      await stack.startNotifier();
      await stack.startScheduler('* * * * * *');
      const displayName = '<b>Ada</b> & "Co"';
      await stack.log.publish(userAdded('ada', 'ada@example.com', displayName));

      const [mail] = await stack.smtp.waitForMessages(1, 60_000);
      assert.ok(mail);
      await waitFor(async () => (await stack.pendingRows()).length === 0, { ...WAIT, message: 'the flag cleared' });
      // Later ticks find nothing to send.
      await stack.waitUntilTicksHandled((await stack.lastSeq()) + 1);

      const mails = await stack.smtp.messages();
      assert.equal(mails.length, 1, 'exactly one email');
      assert.deepEqual(mail.to, ['ada@example.com']);
      assert.equal(mail.from, 'noreply@idm.example');
      assert.equal(mail.subject, `Welcome, ${displayName}: your account is ready`);
      assert.match(mail.text ?? '', /Hello <b>Ada<\/b> & "Co",/);
      assert.match(mail.text ?? '', /Your account ada has been created/);
      assert.ok((mail.html ?? '').includes('&lt;b&gt;Ada&lt;/b&gt; &amp;'), `HTML escaped: ${mail.html}`);
      assert.ok(!(mail.html ?? '').includes('<b>Ada</b>'), 'no raw markup from the display name in the HTML body');

      const [queued, ...moreQueued] = await stack.log.ofType(EventTypes.EmailQueued, 'ada');
      assert.equal(moreQueued.length, 0);
      assert.equal(queued?.data.emailType, 'NEW_USER');
      assert.equal(mail.messageId, `<${queued.id}@idm.example>`, 'the stable Message-ID of the queued email');
      const sent = await stack.log.ofType(EventTypes.EmailSent, 'ada');
      assert.equal(sent.length, 1, 'one EmailSent');
      assert.equal(sent[0]?.data.emailType, 'NEW_USER');
      assert.equal(sent[0]?.data.messageId, mail.messageId);
      const ticks = await stack.log.ofType(EventTypes.BulkTaskTick);
      const sendingTick = ticks.find((x) => x.id === sent[0]?.data.tick);
      assert.equal(sendingTick?.source, '/idm/scheduler', 'sent on a tick of the scheduler process');
      assert.equal(sendingTick?.data.task, 'RetryEmailNotifications');
      assert.deepEqual(await stack.log.ofType(EventTypes.EmailFailed), []);
    },
  );

  for (const outage of ['stopped', '421'] as const) {
    onEachDatabase(
      `SMTP ${outage === 'stopped' ? 'process stopped' : 'answering 421'} across two ticks: nothing lost, flags kept, EmailFailed each time; back up: the next tick delivers each email exactly once`,
      async (stack) => {
        await stack.startNotifier();
        const users = ['down-1', 'down-2', 'down-3'];
        if (outage === 'stopped') await stack.smtp.stop();
        else await stack.smtp.setMode('tempfail', { stage: 'connect' });
        for (const u of users) await stack.log.publish(userAdded(u, `${u}@example.com`));
        await waitFor(async () => (await stack.pendingRows()).length === users.length, { ...WAIT, message: 'three flags' });

        for (const round of [1, 2]) {
          const tick = await tickAndWait(stack, round);
          const failed = (await stack.log.ofType(EventTypes.EmailFailed)).filter((e) => e.data.tick === tick.id);
          assert.deepEqual(failed.map((e) => e.subject).sort(), users, `EmailFailed for every user in tick ${round}`);
          assert.ok(failed.every((e) => !e.data.permanent && e.data.attempt === round));
          // EmailFailed applied: each flag is still there, released for the next tick, attempt counted.
          await waitFor(async () => (await stack.pendingRows()).every((r) => r.attempts === round && r.claimedTick === null), {
            ...WAIT,
            message: `EmailFailed of tick ${round} applied`,
          });
          const rows = await stack.pendingRows();
          assert.deepEqual(
            rows.map((r) => `${r.userId}/${r.emailType}`),
            users.map((u) => `${u}/NEW_USER`),
            'no flag cleared',
          );
        }
        assert.deepEqual(await stack.log.ofType(EventTypes.EmailSent), []);
        assert.deepEqual(await stack.log.ofType(EventTypes.EmailAbandoned), []);

        if (outage === 'stopped') await stack.smtp.restart();
        else await stack.smtp.setMode('accept');
        const third = await tickAndWait(stack, 3);
        const sent = await stack.log.ofType(EventTypes.EmailSent);
        assert.deepEqual(sent.map((e) => e.subject).sort(), users, 'every pending email sent');
        assert.ok(
          sent.every((e) => e.data.tick === third.id && e.data.attempt === 3),
          'all by the first tick after the outage',
        );
        await waitFor(async () => (await stack.pendingRows()).length === 0, { ...WAIT, message: 'flags cleared' });

        await tickAndWait(stack, 4);
        const mails = await stack.smtp.messages();
        assert.deepEqual(
          mails.map((m) => m.to[0]).sort(),
          users.map((u) => `${u}@example.com`),
          'each exactly once',
        );
        assert.equal((await stack.log.ofType(EventTypes.EmailSent)).length, users.length);
      },
    );
  }

  onEachDatabase('550 for one recipient: that email is abandoned, the others are delivered', async (stack) => {
    await stack.startNotifier();
    await stack.smtp.setMode('reject', { rejectRecipients: ['bounce@example.com'] });
    await stack.log.publish(userAdded('ok-1', 'ok1@example.com'));
    await stack.log.publish(userAdded('bounce', 'bounce@example.com'));
    await stack.log.publish(userAdded('ok-2', 'ok2@example.com'));
    await waitFor(async () => (await stack.pendingRows()).length === 3, { ...WAIT, message: 'three flags' });

    await tickAndWait(stack, 1);
    const failed = await stack.log.ofType(EventTypes.EmailFailed);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.subject, 'bounce');
    assert.equal(failed[0]?.data.permanent, true);
    assert.match(failed[0]?.data.error ?? '', /550/);
    const abandoned = await stack.log.ofType(EventTypes.EmailAbandoned);
    assert.deepEqual(
      abandoned.map((e) => [e.subject, e.data.emailType]),
      [['bounce', 'NEW_USER']],
    );
    assert.deepEqual((await stack.log.ofType(EventTypes.EmailSent)).map((e) => e.subject).sort(), ['ok-1', 'ok-2']);
    await waitFor(async () => (await stack.pendingRows()).length === 0, { ...WAIT, message: 'all flags cleared, the abandoned one too' });

    await tickAndWait(stack, 2);
    assert.deepEqual((await stack.smtp.messages()).map((m) => m.to[0]).sort(), ['ok1@example.com', 'ok2@example.com']);
    assert.equal((await stack.log.ofType(EventTypes.EmailFailed)).length, 1, 'the abandoned email is not retried');
  });

  // Replicas share one database; SQLite is single-process by design, so this runs on Postgres.
  onEachDatabase(
    'two scheduler replicas (one restarted mid-run) and two notifier replicas: one tick per slot, no email sent twice',
    async (stack) => {
      await stack.startNotifier();
      await stack.startNotifier();
      const firstScheduler = await stack.startScheduler('* * * * * *');
      await stack.startScheduler('* * * * * *');
      const users = Array.from({ length: 60 }, (_, i) => `rep-${String(i).padStart(2, '0')}`);
      for (const u of users.slice(0, 30)) await stack.log.publish(userAdded(u, `${u}@example.com`));
      await waitFor(async () => (await stack.log.ofType(EventTypes.BulkTaskTick)).length >= 3, { ...WAIT, message: 'three ticks' });
      // Restart a scheduler inside a slot the other one has (or will have) ticked.
      await firstScheduler.stop();
      await stack.startScheduler('* * * * * *');
      for (const u of users.slice(30)) await stack.log.publish(userAdded(u, `${u}@example.com`));

      await stack.smtp.waitForMessages(users.length, 120_000);
      await waitFor(async () => (await stack.pendingRows()).length === 0, { ...WAIT, message: 'all flags cleared' });
      await stack.waitUntilTicksHandled((await stack.lastSeq()) + 1);

      const mails = await stack.smtp.messages();
      assert.equal(mails.length, users.length, 'no duplicate email');
      assert.equal(new Set(mails.map((m) => m.to[0])).size, users.length);
      assert.equal(new Set(mails.map((m) => m.messageId)).size, users.length);
      const sent = await stack.log.ofType(EventTypes.EmailSent);
      assert.deepEqual(sent.map((e) => e.subject).sort(), users);

      const ticks = await stack.log.ofType(EventTypes.BulkTaskTick);
      const slots = ticks.map((x) => x.data.scheduledFor);
      assert.equal(new Set(slots).size, slots.length, `one tick per slot: ${slots.join(', ')}`);
      assert.ok(ticks.every((x) => x.source === '/idm/scheduler'));
    },
    ['postgres'],
  );
});
