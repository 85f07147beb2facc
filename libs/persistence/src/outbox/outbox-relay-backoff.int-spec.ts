import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@idm/testing';
import type { DataSource } from 'typeorm';
import { Outbox, OutboxRelay, countOutboxRows, type OutboxEvent, type OutboxPublisher, type OutboxRelayReport } from '../index.js';
import { describeOutboxRelayReport } from './outbox-relay-report.js';
import { databaseKinds, testDatabase, type TestDatabase } from '../spec-support/test-databases.js';

interface SpecEvent extends OutboxEvent {
  readonly data: { readonly n: number };
}

const event = (id: string, subject: string, n: number): SpecEvent => ({ id, type: 'spec.counted', subject, data: { n } });

/** Longer than any test runs: a rest of this length ends only through `stop()` or never. */
const HOUR = 3_600_000;

/** A stream stand-in that refuses publishes like a server refusing this identity, while `refusing()` says so. */
function refusingPublisher(refusing: (event: SpecEvent) => boolean): {
  attempts: string[];
  sent: SpecEvent[];
  publish(event: SpecEvent): Promise<void>;
} {
  const attempts: string[] = [];
  const sent: SpecEvent[] = [];
  return {
    attempts,
    sent,
    async publish(e) {
      attempts.push(e.id);
      if (refusing(e)) throw new Error(`Permissions Violation for Publish to "spec.${e.subject}"`);
      sent.push(e);
    },
  };
}

/** The `n`s each key's events were published with, in publish order. */
function publishedPerKey(sent: readonly SpecEvent[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const e of sent) (out[e.subject] ??= []).push(e.data.n);
  return out;
}

/**
 * A started relay whose rest after a failed round lasts an hour, so that only a wake-up could start
 * another round while a test runs (or the end of the rest, if something ends it early); each commit
 * of its outbox wakes it, and the outbox carries its deletes. `commit(n)` emits `out-<n>` with `keyOf(n)`.
 */
async function restingRelay(ds: DataSource, stream: OutboxPublisher<SpecEvent>, keyOf = (n: number) => `u${n % 3}`) {
  const reports: OutboxRelayReport[] = [];
  const relay = new OutboxRelay<SpecEvent>(ds, stream, {
    intervalMs: HOUR,
    backoff: { initialMs: HOUR, maxMs: HOUR, factor: 2, jitter: 0 },
    onReport: (report) => reports.push(report),
  });
  const outbox = new Outbox<SpecEvent>(ds);
  outbox.onCommitted(() => relay.wake());
  outbox.carry(relay);
  await relay.start();
  const commit = (n: number) => outbox.run(async ({ emit }) => emit([event(`out-${n}`, keyOf(n), n)]));
  return { relay, reports, commit };
}

/** Runs `body` on a fresh database of `kind` (a visible skip when Postgres is away), then disposes of it. */
async function onDatabase(t: TestContext, kind: TestDatabase['kind'], body: (ds: DataSource) => Promise<void>): Promise<void> {
  const db = await testDatabase(t, kind);
  if (!db) return;
  try {
    await body(await db.open());
  } finally {
    await db.dispose();
  }
}

for (const kind of databaseKinds) {
  describe(`OutboxRelay after a failed round, on ${kind}`, () => {
    test('commits during the rest wake no round: one round of attempts in all, not one per commit; stop() does not wait out the rest; then every row is published once, in order per key', async (t) => {
      await onDatabase(t, kind, async (ds) => {
        let refusing = true;
        const stream = refusingPublisher(() => refusing);
        const { relay, reports, commit } = await restingRelay(ds, stream);

        await commit(1);
        await waitFor(() => stream.attempts.length === 1 && reports.length === 1, { message: 'the first round refused' });
        for (let n = 2; n <= 60; n++) await commit(n); // each commit wakes the relay
        for (let i = 0; i < 100; i++) relay.wake();
        // stop() awaits a round in progress: had a wake-up started one, its attempts would show below.
        await relay.stop();

        assert.deepEqual(stream.attempts, ['out-1'], 'one refused round, however many commits and wake-ups');
        assert.equal(reports.length, 1);
        assert.equal(reports[0]!.kind, 'failing');
        assert.equal(reports[0]!.failedRounds, 1);
        assert.equal(relay.failedRoundsInARow, 1);
        assert.equal(await countOutboxRows(ds), 60);

        refusing = false;
        assert.equal(await relay.drainOnce(), 60);
        assert.equal(await countOutboxRows(ds), 0);
        assert.equal(new Set(stream.sent.map((e) => e.id)).size, 60, 'each row published once');
        const expected: Record<string, number[]> = {};
        for (let n = 1; n <= 60; n++) (expected[`u${n % 3}`] ??= []).push(n);
        assert.deepEqual(publishedPerKey(stream.sent), expected);
      });
    });

    test('drainOnce() counts as a round: a failed one is one more failed round; a successful one ends the run (gauge 0, recovered reported once, the rest ends), so the next failure starts a new run', async (t) => {
      await onDatabase(t, kind, async (ds) => {
        let refusing = true;
        const stream = refusingPublisher(() => refusing);
        const { relay, reports, commit } = await restingRelay(ds, stream, () => 'u');
        try {
          await commit(1);
          await waitFor(() => reports.length === 1, { message: 'the first round refused' });
          await commit(2); // during the rest: noted, no round

          await assert.rejects(relay.drainOnce(), /Permissions Violation/);
          assert.equal(relay.failedRoundsInARow, 2, 'a failed drainOnce is one more failed round');
          assert.equal(reports.length, 1, 'reported at the bounded rate: not again within reportEveryMs');

          refusing = false;
          assert.equal(await relay.drainOnce(), 2);
          assert.equal(relay.failedRoundsInARow, 0, 'the gauge says the relay works again');
          assert.deepEqual(
            reports.map((r) => ({ kind: r.kind, failedRounds: r.failedRounds })),
            [
              { kind: 'failing', failedRounds: 1 },
              { kind: 'recovered', failedRounds: 2 },
            ],
          );

          // The rest of an hour ended with the successful drainOnce: a commit is published by the relay itself.
          await commit(3);
          await waitFor(() => stream.sent.some((e) => e.id === 'out-3'), { message: 'a round after the commit' });

          refusing = true;
          await commit(4);
          await waitFor(() => reports.length === 3, { message: 'the next refused round reported' });
          assert.equal(reports[2]!.kind, 'failing');
          assert.equal(reports[2]!.failedRounds, 1, 'a new run: its backoff starts over');
          assert.equal(relay.failedRoundsInARow, 1);
        } finally {
          await relay.stop();
        }
        assert.deepEqual(publishedPerKey(stream.sent), { u: [1, 2, 3] });
        assert.equal(await countOutboxRows(ds), 1);
      });
    });

    test('the relay retries on its own after each rest; it reports the first failure, then at most once per reportEveryMs, then the recovery once; no row lost or published twice', async (t) => {
      await onDatabase(t, kind, async (ds) => {
        await new Outbox<SpecEvent>(ds).run(async ({ emit }) =>
          emit([
            event('a1', 'a', 1),
            event('b1', 'b', 1),
            event('a2', 'a', 2),
            event('b2', 'b', 2),
            event('a3', 'a', 3),
            event('b3', 'b', 3),
          ]),
        );
        // Time moves only when a publish is refused: 20 s each, so 40 s per round (one refusal per key).
        let clock = Date.parse('2026-01-01T00:00:00Z');
        let refusals = 8; // four rounds of two keys
        const stream = refusingPublisher(() => {
          if (refusals === 0) return false;
          refusals--;
          clock += 20_000;
          return true;
        });
        const reports: OutboxRelayReport[] = [];
        const relay = new OutboxRelay<SpecEvent>(ds, stream, {
          intervalMs: HOUR, // no timer round: only the end of a rest starts the next one
          backoff: { initialMs: 1, maxMs: 1, factor: 1, jitter: 0 },
          reportEveryMs: 60_000,
          now: () => new Date(clock),
          onReport: (report) => reports.push(report),
        });
        await relay.start();
        try {
          await waitFor(() => reports.some((r) => r.kind === 'recovered'), { message: 'a round succeeding after the refused ones' });
        } finally {
          await relay.stop();
        }

        const since = new Date(Date.parse('2026-01-01T00:00:40Z'));
        // Rounds end at 40, 80, 120, 160 s: reported at 40 s (the first) and 120 s (60 s after it), not at 80 or 160 s.
        assert.deepEqual(
          reports.map((r) => ({ kind: r.kind, failedRounds: r.failedRounds, since: r.since })),
          [
            { kind: 'failing', failedRounds: 1, since },
            { kind: 'failing', failedRounds: 3, since },
            { kind: 'recovered', failedRounds: 4, since },
          ],
        );
        assert.match(
          describeOutboxRelayReport(reports[0]!),
          /^publishing the outbox failed: Permissions Violation for Publish to "spec\.[ab]"/,
        );
        assert.match(describeOutboxRelayReport(reports[1]!), /still failing \(3 rounds since 2026-01-01T00:00:40\.000Z\)/);
        assert.equal(relay.failedRoundsInARow, 0);
        assert.equal(stream.attempts.length, 8 + 6);
        assert.deepEqual(publishedPerKey(stream.sent), { a: [1, 2, 3], b: [1, 2, 3] });
        assert.equal(await countOutboxRows(ds), 0);
      });
    });
  });
}
