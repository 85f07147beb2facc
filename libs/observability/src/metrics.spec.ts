import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addOutcomeCounter,
  ageSeconds,
  appendedObserver,
  addGauge,
  addOutboxRelayGauge,
  countAppendedOutcomes,
  countStoredOutcomes,
  createAppMetrics,
  secondsLeft,
} from './metrics.js';

describe('addOutcomeCounter', () => {
  it('counts appended events of the mapped types by outcome, and ignores the rest', async () => {
    const metrics = createAppMetrics('spec');
    const observe = appendedObserver(
      metrics,
      addOutcomeCounter(metrics, 'idm_spec_outcomes_total', 'spec', { 'idm.email.sent': 'sent', 'idm.email.failed': 'failed' }),
    );
    for (const type of ['idm.email.sent', 'idm.email.sent', 'idm.email.failed', 'idm.user.added']) observe({ type, data: {} });
    const text = await metrics.registry.metrics();
    assert.match(text, /idm_spec_outcomes_total\{outcome="sent",app="spec"\} 2/);
    assert.match(text, /idm_spec_outcomes_total\{outcome="failed",app="spec"\} 1/);
    assert.doesNotMatch(text, /outcome="idm\.user\.added"/);
  });
});

describe('countAppendedOutcomes', () => {
  it('subscribes to the publisher: every appended event is counted by type, the mapped ones also by outcome', async () => {
    const metrics = createAppMetrics('spec');
    const listeners: Array<(event: { type: string; data: unknown }) => void> = [];
    countAppendedOutcomes(metrics, { onAppended: (l) => listeners.push(l) }, 'idm_spec_users_total', 'spec', { 'idm.user.added': 'added' });
    assert.equal(listeners.length, 1);
    for (const type of ['idm.user.added', 'idm.user.removed']) listeners[0]!({ type, data: {} });
    const text = await metrics.registry.metrics();
    assert.match(text, /idm_spec_users_total\{outcome="added",app="spec"\} 1/);
    assert.match(text, /idm_events_published_total\{type="idm.user.removed",app="spec"\} 1/);
  });
});

describe('countStoredOutcomes', () => {
  it('counts outcomes from the outboxes’ commits and appended events by type from the publisher, each once', async () => {
    const metrics = createAppMetrics('spec');
    const appended: Array<(event: { type: string; data: unknown }) => void> = [];
    const committed: Array<(events: ReadonlyArray<{ type: string; data: unknown }>) => void> = [];
    const outbox = { onCommitted: (l: (typeof committed)[number]) => committed.push(l) };
    countStoredOutcomes(metrics, { onAppended: (l) => appended.push(l) }, [outbox, outbox], 'idm_spec_emails_total', 'spec', {
      'idm.email.sent': 'sent',
    });
    assert.equal(committed.length, 2);
    committed[0]!([
      { type: 'idm.email.sent', data: {} },
      { type: 'idm.email.queued', data: {} },
    ]);
    committed[1]!([{ type: 'idm.email.sent', data: {} }]);
    // The relay publishing the first commit's sent event, then again (after a crash): publishes, not outcomes.
    for (let i = 0; i < 2; i++) appended[0]!({ type: 'idm.email.sent', data: {} });
    const text = await metrics.registry.metrics();
    assert.match(text, /idm_spec_emails_total\{outcome="sent",app="spec"\} 2/);
    assert.match(text, /idm_events_published_total\{type="idm.email.sent",app="spec"\} 2/);
  });
});

describe('addOutboxRelayGauge', () => {
  it('reads the relay’s failed rounds in a row at each scrape', async () => {
    const metrics = createAppMetrics('spec');
    const relay = { failedRoundsInARow: 0 };
    addOutboxRelayGauge(metrics, relay);
    assert.match(await metrics.registry.metrics(), /^idm_outbox_relay_failures_in_a_row\{app="spec"\} 0$/m);
    relay.failedRoundsInARow = 3;
    assert.match(await metrics.registry.metrics(), /^idm_outbox_relay_failures_in_a_row\{app="spec"\} 3$/m);
  });
});

describe('createAppMetrics', () => {
  it("exports Node's default metrics under their standard names, so stock dashboards find them", async () => {
    const text = await createAppMetrics('spec').registry.metrics();
    assert.match(text, /^process_cpu_user_seconds_total\{app="spec"\} /m);
    assert.match(text, /^nodejs_heap_size_used_bytes\{app="spec"\} /m);
    assert.doesNotMatch(text, /^idm_(process|nodejs)_/m);
  });
});

describe('ageSeconds / secondsLeft (queue-age and deadline gauges)', () => {
  const now = new Date('2026-01-01T12:00:00.000Z');

  it('gives the age of the oldest item, 0 for an empty queue, never negative', () => {
    assert.equal(ageSeconds(new Date('2026-01-01T11:45:00.000Z'), now), 900);
    assert.equal(ageSeconds(null, now), 0);
    assert.equal(ageSeconds(new Date('2026-01-01T12:00:02.000Z'), now), 0);
  });

  it('gives the seconds to the earliest deadline, +Inf without one, 0 once passed', async () => {
    assert.equal(secondsLeft(new Date('2026-01-01T12:10:00.000Z'), now), 600);
    assert.equal(secondsLeft(null, now), Number.POSITIVE_INFINITY);
    assert.equal(secondsLeft(new Date('2026-01-01T11:59:00.000Z'), now), 0);
    // Prometheus reads +Inf: a `< 600` alert stays quiet when nothing is cached.
    const metrics = createAppMetrics('t');
    addGauge(metrics, 'idm_test_seconds_left', 'test', () => secondsLeft(null, now));
    assert.match(await metrics.registry.metrics(), /^idm_test_seconds_left\{app="t"\} \+Inf$/m);
  });
});
