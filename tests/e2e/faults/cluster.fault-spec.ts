import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { createEvent, EventTypes, type IdmEvent } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import { startNatsCluster, testDatabases, waitFor } from '@idm/testing';
import { EmailStack } from '../email-stack.js';
import { recordFault } from './fault-report.js';

const USERS = 300;

describe('faults in a three-node nats-server cluster (stream at replicas 3)', () => {
  it('kill -9 of the stream leader mid-drain, restarted: nothing lost, no event twice, the apps fail over without a restart', async (t) => {
    const [db, ...others] = await testDatabases();
    for (const o of others) if (o.unavailable === undefined) await o.dispose();
    assert.ok(db && db.kind === 'sqlite' && db.unavailable === undefined);
    const cluster = await startNatsCluster({ size: 3 });
    // The stack talks to every node; disposing it stops the whole cluster.
    const stack = await EmailStack.start(db, { ...cluster.nodes[0]!, url: cluster.urls, dispose: () => cluster.dispose() });
    const nc = await connectNats({ url: cluster.urls, name: 'faults-cluster' });
    try {
      await stack.startNotifier({ IDM_STREAM_REPLICAS: '3' });
      const jsm = await jetstreamManager(nc);
      assert.equal((await jsm.streams.info(stack.stream)).config.num_replicas, 3);
      const at = new Date().toISOString();
      await Promise.all(
        Array.from({ length: USERS }, (_, i) => {
          const userId = `r3-${i}`;
          return stack.log.publish(createEvent(EventTypes.UserAdded, userId, { userId, email: `${userId}@example.com` }, { source: '/faults', time: at }));
        }),
      );
      const processes = [await stack.startScheduler('* * * * * *'), ...stack.notifiers];
      let sentAtKill = 0;
      await waitFor(
        async () => {
          sentAtKill = (await stack.smtp.messages()).length;
          return sentAtKill >= 60;
        },
        { timeoutMs: 60_000, intervalMs: 20, message: '60 emails sent before the fault' },
      );
      const leader = (await jsm.streams.info(stack.stream)).cluster?.leader;
      assert.ok(leader, 'the stream has a leader');
      const node = cluster.node(leader);
      const killedAt = Date.now();
      await node.kill();
      await node.restart();
      let recipients = 0;
      await waitFor(
        async () => {
          recipients = new Set((await stack.smtp.messages()).flatMap((m) => m.to)).size;
          return recipients === USERS;
        },
        { timeoutMs: 150_000, intervalMs: 100, message: 'every user emailed' },
      ).catch(() => undefined);
      const recoveryMs = Date.now() - killedAt;
      const mails = await stack.smtp.messages();
      const events: readonly IdmEvent[] = await stack.log.all();
      const ids = new Map<string, number>();
      for (const e of events) ids.set(e.id, (ids.get(e.id) ?? 0) + 1);
      const sameId = [...ids.values()].filter((n) => n > 1).length;
      const messageIds = new Map<string, Set<string | undefined>>();
      for (const m of mails) for (const to of m.to) messageIds.set(to, (messageIds.get(to) ?? new Set()).add(m.messageId));
      recordFault(
        {
          fault: 'kill -9 stream leader of a 3-node cluster (R3), restarted',
          inFlight: `${USERS} emails, ${sentAtKill} sent`,
          lost: USERS - recipients,
          duplicated: `${sameId} events, ${mails.length - recipients} emails (same Message-ID)`,
          recoveryMs,
        },
        (m) => t.diagnostic(m),
      );
      assert.equal(recipients, USERS, 'no user without an email');
      assert.equal(sameId, 0, 'no event stored twice');
      assert.ok([...messageIds.values()].every((s) => s.size === 1), 'copies carry the same Message-ID');
      for (const p of processes) assert.doesNotMatch(p.log(), /start failed|exited/, `${p.name} kept running`);
    } catch (err) {
      t.diagnostic(stack.logs());
      throw err;
    } finally {
      await nc.close();
      await stack.dispose();
    }
  });
});
