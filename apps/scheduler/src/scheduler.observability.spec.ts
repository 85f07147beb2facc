import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventTypes } from '@idm/contracts';
import { createAppMetrics } from '@idm/observability';
import { schedulerTickMetrics } from './scheduler.observability.js';

function tick(data: { catchUp: boolean; missedSlots?: number }): { type: string; data: unknown } {
  return {
    type: EventTypes.BulkTaskTick,
    data: { schedule: 'email-retry', task: 'T', scheduledFor: '2025-01-01T10:15:00.000Z', firedAt: '2025-01-01T10:17:12.000Z', ...data },
  };
}

describe('schedulerTickMetrics', () => {
  it('counts ticks, catch-up ticks, and the missed slots a catch-up tick stands for', async () => {
    const metrics = createAppMetrics('scheduler');
    const observe = schedulerTickMetrics(metrics);
    observe(tick({ catchUp: false, missedSlots: 0 }));
    observe(tick({ catchUp: true, missedSlots: 3 }));
    observe(tick({ catchUp: true })); // written before missedSlots existed: a catch-up, slots unknown
    observe({ type: EventTypes.UserAdded, data: { userId: 'u1' } });
    const text = await metrics.registry.metrics();
    assert.match(text, /^idm_ticks_fired_total\{schedule="email-retry",app="scheduler"\} 3$/m);
    assert.match(text, /^idm_ticks_catch_up_total\{schedule="email-retry",app="scheduler"\} 2$/m);
    assert.match(text, /^idm_ticks_missed_total\{schedule="email-retry",app="scheduler"\} 3$/m);
  });

  it('starts every configured schedule at 0, so a scheduler that never ticks is visible', async () => {
    const metrics = createAppMetrics('scheduler');
    schedulerTickMetrics(metrics, ['email-retry', 'nightly']);
    const text = await metrics.registry.metrics();
    for (const name of ['idm_ticks_fired_total', 'idm_ticks_missed_total', 'idm_ticks_catch_up_total']) {
      for (const schedule of ['email-retry', 'nightly'])
        assert.match(text, new RegExp(`^${name}\\{schedule="${schedule}",app="scheduler"\\} 0$`, 'm'));
    }
  });
});
