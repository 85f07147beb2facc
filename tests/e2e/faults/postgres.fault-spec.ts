import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventTypes } from '@idm/contracts';
import { startPostgresServer, waitFor } from '@idm/testing';
import { EmailStack } from '../email-stack.js';
import { publishUsers, sentAtLeast, waitForRecipients } from './email-backlog.js';
import { recordFault } from './fault-report.js';

const USERS = 300;

describe('faults of the database', () => {
  it('Postgres restarted under load: the notifier reconnects, nothing acked without its effect, nothing lost', async (t) => {
    // A private cluster: the machine's own Postgres is shared by other tests and is never restarted.
    const pg = await startPostgresServer();
    const stack = await EmailStack.start({ kind: 'postgres', databaseUrl: pg.url, schema: 'notifier_faults', dispose: () => pg.dispose() });
    try {
      const notifier = await stack.startNotifier();
      await publishUsers(stack, 'pg', USERS);
      await stack.startScheduler('* * * * * *');
      const sentAtFault = await sentAtLeast(stack, 60);
      const faultAt = Date.now();
      await pg.restart();
      const { recipients, duplicates, mixedIds } = await waitForRecipients(stack, USERS);
      const recoveryMs = Date.now() - faultAt;
      // Every effect stored: each user's flag raised (EmailQueued) and cleared once sent.
      await waitFor(async () => (await stack.pendingRows()).length === 0, { timeoutMs: 60_000, message: 'every flag cleared' });
      const queued = new Set((await stack.log.ofType(EventTypes.EmailQueued)).map((e) => e.subject));
      recordFault(
        {
          fault: 'Postgres restarted (fast shutdown) mid-drain',
          inFlight: `${USERS} emails, ${sentAtFault} sent`,
          lost: USERS - recipients,
          duplicated: `${duplicates} emails (same Message-ID)`,
          recoveryMs,
        },
        (m) => t.diagnostic(m),
      );
      assert.equal(recipients, USERS, 'no user without an email');
      assert.equal(queued.size, USERS, 'every flag was raised: no UserAdded acked without its state change');
      assert.deepEqual(mixedIds, [], 'copies carry the same Message-ID');
      assert.doesNotMatch(notifier.log(), /start failed/, 'the notifier was not restarted');
    } catch (err) {
      t.diagnostic(stack.logs());
      throw err;
    } finally {
      await stack.dispose();
    }
  });
});
