import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import type { IdmEvent } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import { startNatsCluster, testDatabases, type PostgresTestDatabase } from '@idm/testing';
import { EmailStack } from '../email-stack.js';
import { publishUsers, sentAtLeast, waitForRecipients } from './email-backlog.js';
import { recordFault } from './fault-report.js';

const USERS = 300;

/** The machine's Postgres (own schema), or why not: then the test is a visible skip. */
async function postgres(): Promise<PostgresTestDatabase | string> {
  let found: PostgresTestDatabase | string = 'no Postgres test database';
  for (const db of await testDatabases()) {
    if (db.kind === 'postgres' && db.unavailable !== undefined) found = db.unavailable;
    else if (db.kind === 'postgres' && db.unavailable === undefined) found = db;
    else if (db.unavailable === undefined) await db.dispose();
  }
  return found;
}

describe('faults in a three-node nats-server cluster (stream at replicas 3)', () => {
  it('kill -9 of the stream leader mid-drain, two schedulers and two notifiers on Postgres: nothing lost, no event twice, no app restart', async (t) => {
    const db = await postgres();
    if (typeof db === 'string') {
      t.skip(db);
      return;
    }
    const cluster = await startNatsCluster({ size: 3 });
    // The stack talks to every node; disposing it stops the whole cluster.
    const stack = await EmailStack.start(db, { ...cluster.nodes[0]!, url: cluster.urls, dispose: () => cluster.dispose() });
    const nc = await connectNats({ url: cluster.urls, name: 'faults-cluster' });
    try {
      await stack.startNotifier({ IDM_STREAM_REPLICAS: '3' });
      await stack.startNotifier();
      const jsm = await jetstreamManager(nc);
      assert.equal((await jsm.streams.info(stack.stream)).config.num_replicas, 3);
      await publishUsers(stack, 'r3', USERS);
      const processes = [await stack.startScheduler('* * * * * *'), await stack.startScheduler('* * * * * *'), ...stack.notifiers];
      const sentAtKill = await sentAtLeast(stack, 60);
      const leader = (await jsm.streams.info(stack.stream)).cluster?.leader;
      assert.ok(leader, 'the stream has a leader');
      const node = cluster.node(leader);
      const killedAt = Date.now();
      await node.kill();
      await node.restart();
      const { recipients, duplicates, mixedIds } = await waitForRecipients(stack, USERS);
      const recoveryMs = Date.now() - killedAt;
      const events: readonly IdmEvent[] = await stack.log.all();
      const ids = new Map<string, number>();
      for (const e of events) ids.set(e.id, (ids.get(e.id) ?? 0) + 1);
      const sameId = [...ids.values()].filter((n) => n > 1).length;
      recordFault(
        {
          fault: 'kill -9 stream leader of a 3-node cluster (R3), restarted; 2 schedulers, 2 notifiers on Postgres',
          inFlight: `${USERS} emails, ${sentAtKill} sent`,
          lost: USERS - recipients,
          duplicated: `${sameId} events, ${duplicates} emails (same Message-ID)`,
          recoveryMs,
        },
        (m) => t.diagnostic(m),
      );
      assert.equal(recipients, USERS, 'no user without an email');
      assert.equal(sameId, 0, 'no event stored twice');
      assert.deepEqual(mixedIds, [], 'copies carry the same Message-ID');
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
