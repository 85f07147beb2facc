import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createEvent, EventTypes, type IdmEvent } from '@idm/contracts';
import { testDatabases, waitFor, type ReceivedMail, type SqliteTestDatabase } from '@idm/testing';
import { EmailStack } from '../email-stack.js';
import { recordFault } from './fault-report.js';

// Faults on the email path, injected while a backlog of welcome emails drains: real scheduler and
// notifier processes, a real nats-server, a real SMTP server process, SQLite. Counted at the end:
// every user must have had their email; a copy is allowed only with the same Message-ID.

const USERS = 300;

async function sqlite(): Promise<SqliteTestDatabase> {
  for (const db of await testDatabases()) {
    if (db.kind === 'sqlite' && db.unavailable === undefined) return db;
    if (db.unavailable === undefined) await db.dispose();
  }
  throw new Error('no SQLite test database');
}

function userAdded(i: number): IdmEvent {
  const userId = `fault-${i}`;
  return createEvent(EventTypes.UserAdded, userId, { userId, email: `${userId}@example.com` }, { source: '/faults/directory', time: new Date().toISOString() });
}

/** Per recipient: how many copies arrived and whether all copies share one Message-ID. */
function tally(mails: readonly ReceivedMail[]): { recipients: number; duplicates: number; mixedIds: string[] } {
  const byRecipient = new Map<string, ReceivedMail[]>();
  for (const m of mails) for (const to of m.to) byRecipient.set(to, [...(byRecipient.get(to) ?? []), m]);
  let duplicates = 0;
  const mixedIds: string[] = [];
  for (const [to, copies] of byRecipient) {
    duplicates += copies.length - 1;
    if (new Set(copies.map((c) => c.messageId)).size > 1) mixedIds.push(to);
  }
  return { recipients: byRecipient.size, duplicates, mixedIds };
}

/** Events stored more than once under one id (the duplicate window failed), and users with more than one EmailSent. */
function duplicateEvents(events: readonly IdmEvent[]): { sameId: number; emailSentTwice: number } {
  const ids = new Map<string, number>();
  const sent = new Map<string, number>();
  for (const e of events) {
    ids.set(e.id, (ids.get(e.id) ?? 0) + 1);
    if (e.type === EventTypes.EmailSent) sent.set(e.subject, (sent.get(e.subject) ?? 0) + 1);
  }
  return { sameId: [...ids.values()].filter((n) => n > 1).length, emailSentTwice: [...sent.values()].filter((n) => n > 1).length };
}

async function withStack(t: TestContext, body: (stack: EmailStack) => Promise<void>): Promise<void> {
  const stack = await EmailStack.start(await sqlite());
  try {
    await body(stack);
  } catch (err) {
    t.diagnostic(stack.logs());
    throw err;
  } finally {
    await stack.dispose();
  }
}

/** Publishes the backlog, starts the apps, and resolves once `sentBeforeFault` emails went out. */
async function drainUntil(stack: EmailStack, sentBeforeFault: number): Promise<number> {
  await stack.startNotifier(); // creates the stream
  await Promise.all(Array.from({ length: USERS }, (_, i) => stack.log.publish(userAdded(i))));
  await stack.startScheduler('* * * * * *');
  let sent = 0;
  await waitFor(
    async () => {
      sent = (await stack.smtp.messages()).length;
      return sent >= sentBeforeFault;
    },
    { timeoutMs: 60_000, intervalMs: 20, message: `${sentBeforeFault} emails sent before the fault` },
  );
  return sent;
}

async function allDelivered(stack: EmailStack, timeoutMs: number): Promise<ReceivedMail[]> {
  let mails: ReceivedMail[] = [];
  await waitFor(
    async () => {
      mails = await stack.smtp.messages();
      return tally(mails).recipients >= USERS;
    },
    { timeoutMs, intervalMs: 100, message: `every one of ${USERS} users emailed` },
  ).catch(() => undefined);
  return mails;
}

describe('faults on the email path (kill -9 while 300 emails drain)', () => {
  it('kill -9 of the notifier mid-drain (default lease 30 s): nothing lost, copies only with the same Message-ID', async (t) => {
    await withStack(t, async (stack) => {
      const sentAtKill = await drainUntil(stack, 60);
      const notifier = stack.notifiers[0]!;
      const killedAt = Date.now();
      await notifier.kill();
      await notifier.restart();
      const mails = await allDelivered(stack, 150_000);
      const recoveryMs = Date.now() - killedAt;
      const { recipients, duplicates, mixedIds } = tally(mails);
      recordFault(
        { fault: 'kill -9 notifier mid-drain, restarted (SQLite, default lease)', inFlight: `${USERS} emails, ${sentAtKill} sent`, lost: USERS - recipients, duplicated: `${duplicates} emails, same Message-ID`, recoveryMs },
        (m) => t.diagnostic(m),
      );
      assert.equal(recipients, USERS, 'no user without an email');
      assert.deepEqual(mixedIds, [], 'a copy always carries the Message-ID of the first');
    });
  });

  it('kill -9 of nats-server mid-drain, restarted on the same store: nothing lost, no event twice', async (t) => {
    await withStack(t, async (stack) => {
      const sentAtKill = await drainUntil(stack, 60);
      const killedAt = Date.now();
      await stack.nats.kill();
      await stack.nats.restart();
      const mails = await allDelivered(stack, 150_000);
      const recoveryMs = Date.now() - killedAt;
      await waitFor(async () => (await stack.pendingRows()).length === 0, { timeoutMs: 60_000, message: 'every flag cleared' });
      const { recipients, duplicates, mixedIds } = tally(mails);
      const events = duplicateEvents(await stack.log.all());
      recordFault(
        {
          fault: 'kill -9 nats-server mid-drain, restarted on its store',
          inFlight: `${USERS} emails, ${sentAtKill} sent`,
          lost: USERS - recipients,
          duplicated: `${events.sameId} events, ${events.emailSentTwice} EmailSent twice, ${duplicates} emails`,
          recoveryMs,
        },
        (m) => t.diagnostic(m),
      );
      assert.equal(recipients, USERS, 'no user without an email');
      assert.equal(events.sameId, 0, 'no event stored twice');
      assert.deepEqual(mixedIds, []);
    });
  });
});
