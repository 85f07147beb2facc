import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addOutcomeCounter, appendedObserver, createAppMetrics } from './metrics.js';

describe('addOutcomeCounter', () => {
  it('counts appended events of the mapped types by outcome, and ignores the rest', async () => {
    const metrics = createAppMetrics('spec');
    const observe = appendedObserver(metrics, addOutcomeCounter(metrics, 'idm_spec_outcomes_total', 'spec', { 'idm.email.sent': 'sent', 'idm.email.failed': 'failed' }));
    for (const type of ['idm.email.sent', 'idm.email.sent', 'idm.email.failed', 'idm.user.added']) observe({ type, data: {} });
    const text = await metrics.registry.metrics();
    assert.match(text, /idm_spec_outcomes_total\{outcome="sent",app="spec"\} 2/);
    assert.match(text, /idm_spec_outcomes_total\{outcome="failed",app="spec"\} 1/);
    assert.doesNotMatch(text, /outcome="idm\.user\.added"/);
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
