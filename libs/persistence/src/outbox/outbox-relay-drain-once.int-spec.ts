import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { eventLoopTurns, waitFor } from '@idm/testing';
import type { DataSource } from 'typeorm';
import { Outbox, OutboxRelay, countOutboxRows, type OutboxEvent } from '../index.js';
import { databaseKinds, testOnDatabase } from '../spec-support/test-databases.js';

const HOUR = 3_600_000;

/**
 * A stream stand-in whose appends hang until `release()`, so a test can hold a round in the
 * middle of its publishes; it records every attempt (a row published twice shows twice).
 */
function gatedStream() {
  const attempts: string[] = [];
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    attempts,
    release: () => open(),
    async publish(event: OutboxEvent): Promise<void> {
      attempts.push(event.id);
      await gate;
    },
  };
}

const emitOne = (outbox: Outbox, n: number) =>
  outbox.run(async ({ emit }) => emit([{ id: `out-${n}`, type: 'spec.counted', subject: `u${n % 3}` }]));

/** A started relay (no timer round during a test) whose outbox wakes it on commit and carries its deletes. */
async function startedRelay(ds: DataSource, stream: ReturnType<typeof gatedStream>) {
  const relay = new OutboxRelay(ds, stream, { intervalMs: HOUR });
  const outbox = new Outbox(ds);
  outbox.onCommitted(() => relay.wake());
  outbox.carry(relay);
  await relay.start();
  return { relay, commit: (n: number) => emitOne(outbox, n) };
}

/**
 * A started relay with nothing to publish, and two outboxes: `quiet` commits rows without waking
 * it (only `drainOnce()` publishes them), `waking` wakes it on commit and carries its deletes.
 */
async function idleRelay(ds: DataSource, stream: ReturnType<typeof gatedStream>) {
  const relay = new OutboxRelay(ds, stream, { intervalMs: HOUR });
  await relay.start();
  const quiet = new Outbox(ds);
  const waking = new Outbox(ds);
  waking.onCommitted(() => relay.wake());
  waking.carry(relay);
  return { relay, quiet, waking };
}

for (const kind of databaseKinds) {
  describe(`OutboxRelay.drainOnce() beside a running round, on ${kind}`, () => {
    testOnDatabase(kind, 'waits for the round in progress instead of reading and publishing its rows a second time', async (db) => {
      const ds = await db.open();
      const stream = gatedStream();
      const { relay, commit } = await startedRelay(ds, stream);
      for (let n = 1; n <= 9; n++) await commit(n);
      await waitFor(() => stream.attempts.length > 0, { message: 'the woken round is publishing' });

      const drained = relay.drainOnce();
      await eventLoopTurns();
      stream.release();

      // The running round published the rows that were there; drainOnce found none left of its own.
      assert.equal(await drained, 0);
      await relay.stop();
      assert.equal(stream.attempts.length, new Set(stream.attempts).size, `no row published twice: ${stream.attempts.join(', ')}`);
      assert.deepEqual(new Set(stream.attempts), new Set(Array.from({ length: 9 }, (_, i) => `out-${i + 1}`)));
      assert.equal(await countOutboxRows(ds), 0);
    });

    testOnDatabase(
      kind,
      'is the running round while it runs: a commit meanwhile only asks for the next round, which follows it',
      async (db) => {
        const ds = await db.open();
        const stream = gatedStream();
        const { relay, quiet, waking } = await idleRelay(ds, stream);
        try {
          for (let n = 1; n <= 3; n++) await emitOne(quiet, n);
          const drained = relay.drainOnce();
          await waitFor(() => stream.attempts.length === 3, { message: 'drainOnce is publishing its 3 rows' });
          await emitOne(waking, 4); // wakes the relay during the held round
          await eventLoopTurns();
          assert.deepEqual(stream.attempts, ['out-1', 'out-2', 'out-3'], 'no round started beside the running one');
          stream.release();
          assert.equal(await drained, 3);
          await waitFor(() => stream.attempts.includes('out-4'), { message: 'the noted wake-up ran a round after it' });
          await relay.stop();
          assert.equal(stream.attempts.length, 4, `each row published once: ${stream.attempts.join(', ')}`);
          assert.equal(await countOutboxRows(ds), 0);
        } finally {
          stream.release();
        }
      },
    );

    testOnDatabase(kind, 'stop() waits for a drainOnce() in progress, like for any round', async (db) => {
      const ds = await db.open();
      const stream = gatedStream();
      const { relay, quiet } = await idleRelay(ds, stream);
      try {
        await emitOne(quiet, 1);
        const drained = relay.drainOnce();
        await waitFor(() => stream.attempts.length === 1, { message: 'drainOnce is publishing' });
        let stopped = false;
        const stopping = relay.stop().then(() => (stopped = true));
        await eventLoopTurns();
        assert.equal(stopped, false, 'stop() returned while drainOnce() was still publishing');
        stream.release();
        assert.equal(await drained, 1);
        await stopping;
        assert.equal(await countOutboxRows(ds), 0);
      } finally {
        stream.release();
      }
    });
  });
}
