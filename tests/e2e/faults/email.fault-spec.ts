import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { EventTypes, type IdmEvent } from '@idm/contracts';
import { waitFor } from '@idm/testing';
import { EmailStack } from '../email-stack.js';
import { publishUsers, sentAtLeast, sqliteDatabase, waitForRecipients } from './email-backlog.js';
import { recordFault } from './fault-report.js';

// Faults on the email path, injected while a backlog of welcome emails drains: real scheduler and
// notifier processes, a real nats-server, a real SMTP server process, SQLite. Counted at the end:
// every user must have had their email; a copy is allowed only with the same Message-ID.

const USERS = 300;

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

/** A stack with the backlog draining; `body` injects the fault once 60 emails went out. */
async function midDrain(
  t: TestContext,
  body: (stack: EmailStack, sentAtFault: number) => Promise<void>,
  notifierEnv: Record<string, string> = {},
): Promise<void> {
  const stack = await EmailStack.start(await sqliteDatabase());
  try {
    await stack.startNotifier(notifierEnv); // creates the stream
    await publishUsers(stack, 'fault', USERS);
    await stack.startScheduler('* * * * * *');
    await body(stack, await sentAtLeast(stack, 60));
  } catch (err) {
    t.diagnostic(stack.logs());
    throw err;
  } finally {
    await stack.dispose();
  }
}

/**
 * Kills the first notifier with SIGKILL, restarts it (then `afterRestart`), waits until every user
 * has their email and records the row: nothing lost, copies only with the first Message-ID.
 */
async function killNotifierAndCount(
  t: TestContext,
  stack: EmailStack,
  sentAtKill: number,
  fault: string,
  afterRestart: (notifier: EmailStack['notifiers'][number]) => Promise<unknown> = async () => undefined,
): Promise<void> {
  const notifier = stack.notifiers[0]!;
  const killedAt = Date.now();
  await notifier.kill();
  await notifier.restart();
  await afterRestart(notifier);
  const { recipients, duplicates, mixedIds } = await waitForRecipients(stack, USERS);
  recordFault(
    {
      fault,
      inFlight: `${USERS} emails, ${sentAtKill} sent`,
      lost: USERS - recipients,
      duplicated: `${duplicates} emails, same Message-ID`,
      recoveryMs: Date.now() - killedAt,
    },
    (m) => t.diagnostic(m),
  );
  assert.equal(recipients, USERS, 'no user without an email');
  assert.deepEqual(mixedIds, [], 'a copy always carries the Message-ID of the first');
}

describe('faults on the email path (kill -9 while 300 emails drain)', () => {
  it('kill -9 of the notifier mid-drain (default lease 30 s): nothing lost, copies only with the same Message-ID', async (t) => {
    await midDrain(t, (stack, sentAtKill) =>
      killNotifierAndCount(t, stack, sentAtKill, 'kill -9 notifier mid-drain, restarted (SQLite, default lease)'),
    );
  });

  it('kill -9 of a notifier with a stable NOTIFIER_INSTANCE_ID: the restarted instance frees its old claims at start, no lease wait', async (t) => {
    await midDrain(
      t,
      (stack, sentAtKill) =>
        killNotifierAndCount(t, stack, sentAtKill, 'kill -9 notifier mid-drain, restarted with the same NOTIFIER_INSTANCE_ID', (notifier) =>
          notifier.waitForLog(/released \d+ claims of this instance's previous run/),
        ),
      { NOTIFIER_INSTANCE_ID: 'notifier-0' },
    );
  });

  it('kill -9 of nats-server mid-drain, restarted on the same store: nothing lost, no event twice', async (t) => {
    await midDrain(t, async (stack, sentAtKill) => {
      const killedAt = Date.now();
      await stack.nats.kill();
      await stack.nats.restart();
      const { recipients, duplicates, mixedIds } = await waitForRecipients(stack, USERS);
      const recoveryMs = Date.now() - killedAt;
      await waitFor(async () => (await stack.pendingRows()).length === 0, { timeoutMs: 60_000, message: 'every flag cleared' });
      // The outcomes were committed while the server was away; the relay appends them once it is back.
      await stack.waitUntilOutboxPublished(60_000);
      // The spec's own connection may still be reconnecting to the restarted server: a read that times out is tried again.
      await waitFor(async () => (await stack.log.all()).length > 0, { timeoutMs: 30_000, message: 'the log readable again' });
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
