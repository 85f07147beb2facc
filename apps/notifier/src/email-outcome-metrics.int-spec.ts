import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { DataSource } from 'typeorm';
import type { IdmEvent } from '@idm/contracts';
import { connectNats, ensureEventStream, EventPublisher } from '@idm/messaging';
import { createAppMetrics, type AppMetrics } from '@idm/observability';
import { Outbox, OutboxRelay } from '@idm/persistence';
import { anEvent, startNatsServer, waitFor } from '@idm/testing';
import { DeliveryOutcomeService } from './delivery/delivery-outcome.service.js';
import { onEachNotifierDatabase } from './notifier-database.fixture.js';
import { countEmailOutcomes } from './notifier.observability.js';
import { PendingEmailRepository } from './pending-emails/pending-email.repository.js';
import { upsertPendingEmails } from './pending-emails/pending-email.statements.js';
import { newlyQueuedEmail } from './pending-emails/pending-email.js';

/** The value of a counter's series with these labels (0 when it has none yet). */
async function counted(metrics: AppMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const series = metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return series?.value ?? 0;
}

/** One notifier process as far as the metric goes: its registry, publisher, outcome outbox and outcome store. */
function notifierProcess(js: JetStreamClient, ds: DataSource) {
  const metrics = createAppMetrics('notifier');
  const publisher = new EventPublisher(js);
  const outbox = new Outbox<IdmEvent>(ds, { groupCommit: { lingerMs: 1 } });
  countEmailOutcomes(metrics, publisher, [outbox]);
  return { metrics, publisher, outcomes: new DeliveryOutcomeService(outbox, new PendingEmailRepository(), 0) };
}

describe('idm_emails_total', () => {
  it('counts an outcome once, when it is stored: a relay publishing it again after a crash adds nothing', async (t) => {
    const nats = await startNatsServer({ jetstream: true });
    const nc = await connectNats({ url: nats.url, name: 'email-outcome-metrics-spec' });
    t.after(async () => {
      await nc.close();
      await nats.dispose();
    });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    // A short duplicate window: the re-publish below comes after it, as after a long outage.
    await ensureEventStream(jsm, { name: 'EMAIL_METRICS', duplicateWindowMs: 200 });
    let run = 0;
    await onEachNotifierDatabase(t, async (ds) => {
      run += 1;
      const queued = anEvent.emailQueued({ userId: 'u-1', emailType: 'NEW_USER' });
      const claimed = { ...newlyQueuedEmail({ ...queued.data, queuedEventId: queued.id, at: new Date(), context: {} }), claimToken: 'tok' };
      await upsertPendingEmails(ds, [{ ...claimed, claimedTick: 'tick-1', claimedAt: new Date() }]);
      const sent = anEvent.emailSent({ userId: 'u-1', emailType: 'NEW_USER', attempt: 1, tick: 'tick-1' }, { causedBy: queued });

      // The first process stores the outcome: counted at the commit, before anything is published.
      const first = notifierProcess(js, ds);
      assert.equal(
        await first.outcomes.store({ email: { userId: 'u-1', emailType: 'NEW_USER' }, claimToken: 'tok', events: [sent] }),
        'stored',
      );
      assert.equal(await counted(first.metrics, 'idm_emails_total', { outcome: 'sent' }), 1);
      // Its relay publishes the row, then the process dies before the row's delete.
      const crashing = new OutboxRelay<IdmEvent>(ds, {
        publish: async (event) => {
          await first.publisher.publish(event);
          throw new Error('crashed between the publish and the delete');
        },
      });
      await assert.rejects(crashing.drainOnce(), /crashed between the publish and the delete/);
      assert.equal(await counted(first.metrics, 'idm_emails_total', { outcome: 'sent' }), 1);

      // Wait until the stream no longer remembers the id, so the re-publish is stored as new.
      const probe = new EventPublisher(js);
      const marker = anEvent.userAdded({ userId: `probe-${run}` });
      await probe.publish(marker);
      await waitFor(async () => !(await probe.publish(marker)).duplicate, { message: 'the duplicate window passed' });

      // The restarted process's relay publishes the leftover row again: published, not counted.
      const second = notifierProcess(js, ds);
      await new OutboxRelay<IdmEvent>(ds, second.publisher).drainOnce();
      assert.equal(await counted(second.metrics, 'idm_events_published_total', { type: 'idm.email.sent' }), 1, 're-published as new');
      assert.equal(await counted(second.metrics, 'idm_emails_total', { outcome: 'sent' }), 0);
    });
  });
});
