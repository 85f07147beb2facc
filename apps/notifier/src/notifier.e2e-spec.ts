import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { createEvent, EventTypes, subjectFor, type IdmEvent } from '@idm/contracts';
import { connectNats, EventPublisher, JetStreamTransport, type MessagingConfig } from '@idm/messaging';
import { createAppMetrics } from '@idm/observability';
import {
  metricValue,
  specMessagingConfig,
  storedEvents,
  startNatsServer,
  startSmtpServer,
  tempDir,
  waitFor,
  type NatsServerHandle,
  type SmtpServerHandle,
} from '@idm/testing';
import { DataSource } from 'typeorm';
import { emailTypesOf } from './email-rules/email-rules.config.js';
import { readNotifierConfig } from './notifier.config.js';
import { NotifierModule } from './notifier.module.js';
import { observeNotifier } from './notifier.observability.js';
import { NOTIFIER_CONSUMER } from './notifier.tokens.js';
import { PendingEmailRepository } from './pending-emails/pending-email.repository.js';
import { loadTemplates } from './templates/template-store.js';

describe('notifier end to end (nats-server, SMTP server, SQLite)', () => {
  let nats: NatsServerHandle;
  let smtp: SmtpServerHandle;
  let app: INestMicroservice;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: EventPublisher;
  let dataDir: string;
  let messaging: MessagingConfig;
  const stream = `NOTIFIER_${randomBytes(3).toString('hex')}`;

  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    smtp = await startSmtpServer({ mode: 'accept' });
    dataDir = tempDir('notifier-e2e');
    const config = readNotifierConfig({
      SMTP_URL: smtp.url,
      MAIL_FROM: 'IDM <noreply@idm.example>',
      DATA_DIR: dataDir,
      EMAIL_SEND_CONCURRENCY: '4',
      SMTP_MAX_CONNECTIONS: '4',
    });
    messaging = specMessagingConfig({ url: nats.url, stream, name: 'notifier-spec' });
    app = await NestFactory.createMicroservice(
      NotifierModule.forRoot({ config, templates: loadTemplates(emailTypesOf(config.rules)), messaging }),
      {
        strategy: new JetStreamTransport({
          connection: messaging.connection,
          stream: messaging.stream,
          consumer: NOTIFIER_CONSUMER,
          ackWaitMs: 10_000,
        }),
        logger: ['error', 'warn'],
      },
    );
    await app.listen();
    nc = await connectNats({ url: nats.url, name: 'notifier-spec-client' });
    jsm = await jetstreamManager(nc);
    publisher = new EventPublisher(jetstream(nc));
  });

  after(async () => {
    await app?.close();
    await nc?.close();
    await smtp?.dispose();
    await nats?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const events = (): Promise<IdmEvent[]> => storedEvents(jsm, stream);

  const at = () => new Date().toISOString();
  const tick = (n: number, task = 'RetryEmailNotifications') =>
    createEvent(
      EventTypes.BulkTaskTick,
      'email-retry',
      { schedule: 'email-retry', task, scheduledFor: at(), firedAt: at(), catchUp: false },
      { source: '/spec', time: at(), id: `tick-${stream}-${n}` },
    );

  it('UserAdded + PasswordChanged → EmailQueued ×2; a retry tick sends both; EmailSent clears the flags', async () => {
    await publisher.publish(
      createEvent(
        EventTypes.UserAdded,
        'e2e-1',
        { userId: 'e2e-1', email: 'e2e1@example.com', displayName: 'E2E One' },
        { source: '/spec', time: at() },
      ),
    );
    await publisher.publish(
      createEvent(
        EventTypes.PasswordChanged,
        'e2e-1',
        { userId: 'e2e-1', origin: 'source', changedAt: at() },
        { source: '/spec', time: at() },
      ),
    );
    await waitFor(async () => (await events()).filter((e) => e.type === 'idm.email.queued').length === 2, {
      message: 'two EmailQueued',
      timeoutMs: 20_000,
    });

    await publisher.publish(tick(0, 'SomethingElse'));
    await publisher.publish(tick(1));
    const mails = await smtp.waitForMessages(2, 20_000);
    assert.deepEqual(mails.map((m) => m.to[0]).sort(), ['e2e1@example.com', 'e2e1@example.com']);

    const dataSource = app.get(DataSource);
    await waitFor(async () => (await new PendingEmailRepository().typesFor(dataSource, 'e2e-1')).size === 0, {
      message: 'flags cleared',
      timeoutMs: 20_000,
    });
    // The flags are cleared in the commits that store the EmailSent; the relay publishes them right after.
    await waitFor(async () => (await events()).filter((e) => e.type === 'idm.email.sent').length >= 2, {
      message: 'two EmailSent in the stream',
      timeoutMs: 20_000,
    });
    const sent = (await events()).filter((e) => e.type === 'idm.email.sent');
    assert.equal(sent.length, 2);
    const queuedIds = (await events()).filter((e) => e.type === 'idm.email.queued').map((e) => e.id);
    assert.deepEqual(mails.map((m) => m.messageId).sort(), queuedIds.map((id) => `<${id}@idm.example>`).sort());
  });

  it('a 550 abandons the email: EmailFailed(permanent) + EmailAbandoned, flag cleared, nothing retried', async () => {
    await smtp.setMode('reject', { rejectRecipients: ['gone@example.com'] });
    await publisher.publish(
      createEvent(EventTypes.UserAdded, 'e2e-2', { userId: 'e2e-2', email: 'gone@example.com' }, { source: '/spec', time: at() }),
    );
    await waitFor(async () => (await events()).some((e) => e.type === 'idm.email.queued' && e.subject === 'e2e-2'), { timeoutMs: 20_000 });
    await publisher.publish(tick(2));
    await waitFor(async () => (await events()).some((e) => e.type === 'idm.email.abandoned' && e.subject === 'e2e-2'), {
      message: 'EmailAbandoned',
      timeoutMs: 20_000,
    });
    const dataSource = app.get(DataSource);
    await waitFor(async () => (await new PendingEmailRepository().typesFor(dataSource, 'e2e-2')).size === 0, {
      message: 'flag cleared',
      timeoutMs: 20_000,
    });
    const failed = (await events()).filter((e) => e.type === 'idm.email.failed' && e.subject === 'e2e-2');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.type === 'idm.email.failed' && failed[0].data.permanent, true);
    await smtp.setMode('accept');
  });

  it("metrics: pending emails and the oldest one's age while an email waits for its tick, 0 once sent", async () => {
    const metrics = createAppMetrics('notifier');
    const ready = { isReady: () => true } as unknown as JetStreamTransport;
    await observeNotifier(app, ready, { metrics, messaging, port: null, logger: { log() {}, error() {}, warn() {} } });
    const scrape = async (name: string): Promise<number> => metricValue(await metrics.registry.metrics(), `${name}{app="notifier"}`);
    const repo = new PendingEmailRepository();
    const dataSource = app.get(DataSource);
    assert.equal(await repo.oldestFirstQueuedAt(dataSource), null);
    assert.equal(await scrape('idm_pending_email_oldest_age_seconds'), 0);

    await publisher.publish(
      createEvent(EventTypes.UserAdded, 'e2e-3', { userId: 'e2e-3', email: 'e2e3@example.com' }, { source: '/spec', time: at() }),
    );
    await waitFor(async () => (await repo.typesFor(dataSource, 'e2e-3')).size === 1, { message: 'flagged', timeoutMs: 20_000 });
    const [type] = await repo.typesFor(dataSource, 'e2e-3');
    const pending = await repo.find(dataSource, 'e2e-3', type!);
    assert.deepEqual(await repo.oldestFirstQueuedAt(dataSource), pending!.firstQueuedAt);
    assert.equal(await scrape('idm_pending_emails'), 1);
    const age = await scrape('idm_pending_email_oldest_age_seconds');
    assert.ok(Number.isFinite(age) && age >= 0, `age ${age}`);

    await publisher.publish(tick(3));
    await waitFor(async () => (await repo.typesFor(dataSource, 'e2e-3')).size === 0, { message: 'sent', timeoutMs: 20_000 });
    assert.equal(await scrape('idm_pending_emails'), 0);
    assert.equal(await scrape('idm_pending_email_oldest_age_seconds'), 0);

    // A poison message on a subject the notifier consumes: dead-lettered, and the DLQ gauge counts it.
    assert.equal(await scrape('idm_dead_letter_messages'), 0);
    await jetstream(nc).publish(subjectFor(EventTypes.UserAdded, 'e2e-poison'), 'not an event');
    await waitFor(async () => (await scrape('idm_dead_letter_messages')) === 1, { message: 'one dead letter', timeoutMs: 20_000 });
  });
});
