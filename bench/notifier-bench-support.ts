import { performance } from 'node:perf_hooks';
import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { createEvent, EventTypes } from '@idm/contracts';
import type { EventPublisher } from '@idm/messaging';

const now = () => new Date().toISOString();

/** Appends one `RetryEmailNotifications` tick, as the scheduler would. */
export async function publishRetryTick(publisher: EventPublisher): Promise<void> {
  await publisher.publish(
    createEvent(
      EventTypes.BulkTaskTick,
      'email-retry',
      { schedule: 'email-retry', task: 'RetryEmailNotifications', scheduledFor: now(), firedAt: now(), catchUp: false },
      { source: '/bench', time: now() },
    ),
  );
}

/**
 * Resolves with the time (performance.now) at which the n-th EmailSent at or after stream
 * sequence `fromSeq` was read. Call it before appending what causes them: it reads from `fromSeq`,
 * so none is missed while its consumer is being set up.
 */
export async function nthEmailSent(js: JetStreamClient, stream: string, n: number, fromSeq = 1): Promise<number> {
  const consumer = await js.consumers.get(stream, {
    filter_subjects: `${EventTypes.EmailSent}.>`,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSeq,
  });
  const messages = await consumer.consume();
  let seen = 0;
  try {
    for await (const _ of messages) if (++seen >= n) return performance.now();
  } finally {
    await messages.close().catch(() => undefined);
  }
  throw new Error(`the EmailSent stream ended after ${seen}`);
}
