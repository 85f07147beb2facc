import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventTypes } from '@idm/contracts';
import { waitFor } from '@idm/testing';
import { EmailStack } from '../email-stack.js';
import { sqliteDatabase } from './email-backlog.js';
import { recordFault } from './fault-report.js';

describe('faults on the scheduler', () => {
  it('kill -9 of the scheduler: after the restart one catch-up tick stands for the missed slots, no slot twice', async (t) => {
    const stack = await EmailStack.start(await sqliteDatabase());
    try {
      await stack.startNotifier(); // provisions the stream
      const scheduler = await stack.startScheduler('* * * * * *');
      const ticks = () => stack.log.ofType(EventTypes.BulkTaskTick, 'email-retry');
      await waitFor(async () => (await ticks()).length >= 3, { timeoutMs: 30_000, message: 'three ticks before the fault' });
      await scheduler.kill();
      const killedAt = Date.now();
      const before = (await ticks()).length;
      // The outage itself: a few one-second slots pass with no scheduler.
      await waitFor(() => Date.now() - killedAt >= 3_500, { timeoutMs: 10_000, intervalMs: 100 });
      await scheduler.restart();
      await waitFor(async () => (await ticks()).length >= before + 3, { timeoutMs: 30_000, message: 'ticks again after the restart' });
      const all = await ticks();
      const after = all.slice(before);
      const recoveryMs = Date.parse(after[0]!.data.firedAt) - killedAt;
      const slots = all.map((e) => e.data.scheduledFor);
      const twice = slots.length - new Set(slots).size;
      const catchUps = after.filter((e) => e.data.catchUp).length;
      recordFault(
        {
          fault: 'kill -9 scheduler (every-second schedule), restarted',
          inFlight: `${before} ticks fired, ~3 slots missed`,
          lost: 0,
          duplicated: `${twice} slots twice, ${catchUps} catch-up tick`,
          recoveryMs,
        },
        (m) => t.diagnostic(m),
      );
      assert.equal(twice, 0, 'no slot ticked twice');
      assert.equal(catchUps, 1, 'exactly one catch-up tick for the downtime');
      assert.equal(after[0]!.data.catchUp, true, 'the first tick after the restart is the catch-up');
    } catch (err) {
      t.diagnostic(stack.logs());
      throw err;
    } finally {
      await stack.dispose();
    }
  });
});
