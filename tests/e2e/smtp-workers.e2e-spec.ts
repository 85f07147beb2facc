import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEvent, EventTypes } from '@idm/contracts';
import { testDatabases, waitFor } from '@idm/testing';
import { EmailStack } from './email-stack.js';

// The notifier process from dist with SMTP_WORKERS set: the worker thread file resolves in the
// built layout, emails go out from the threads, and a SIGTERM closes them (no SIGKILL needed).

describe('notifier process with SMTP_WORKERS=2 (nats-server, SMTP server, SQLite)', () => {
  it('sends from worker threads and shuts down gracefully on SIGTERM', async (t) => {
    const [sqlite, postgres] = await testDatabases();
    if (postgres.unavailable === undefined) await postgres.dispose();
    const stack = await EmailStack.start(sqlite);
    try {
      const notifier = await stack.startNotifier({ SMTP_WORKERS: '2' });
      assert.match(notifier.log(), /ready: SMTP .*2 worker threads/);
      const users = ['w-1', 'w-2', 'w-3'];
      for (const userId of users)
        await stack.log.publish(
          createEvent(
            EventTypes.UserAdded,
            userId,
            { userId, email: `${userId}@example.com` },
            { source: '/e2e/directory', time: new Date().toISOString() },
          ),
        );
      await stack.startScheduler('* * * * * *');

      const mails = await stack.smtp.waitForMessages(users.length, 60_000);
      assert.deepEqual(
        mails.map((m) => m.to[0]).sort(),
        users.map((u) => `${u}@example.com`),
      );
      await waitFor(async () => (await stack.log.ofType(EventTypes.EmailSent)).length === users.length, {
        timeoutMs: 60_000,
        message: 'an EmailSent per user',
      });

      await notifier.stop(20_000);
      assert.deepEqual(
        notifier.exitStatus(),
        { code: null, signal: 'SIGTERM' },
        'shutdown hooks finished (closing the threads) and re-raised SIGTERM',
      );
    } catch (err) {
      t.diagnostic(stack.logs());
      throw err;
    } finally {
      await stack.dispose();
    }
  });
});
