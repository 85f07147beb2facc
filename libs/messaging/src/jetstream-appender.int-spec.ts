import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  ConnectionError,
  NoRespondersError,
  PermissionViolationError,
  TimeoutError,
  type NatsConnection,
} from '@nats-io/nats-core';
import { encodeEvent, eventSubject, type IdmEvent } from '@idm/contracts';
import { anEvent, LIMITED_NATS_USERS, startNatsServer, startNatsServerWithLimitedUser, waitFor, type NatsServerHandle } from '@idm/testing';
import { MessagingUnavailableError, WrongLastSequenceError } from './errors.js';
import { EventPublisher } from './event-publisher.js';
import { JetStreamAppender } from './jetstream-appender.js';
import { connectNats } from './nats-connection.js';
import { ensureEventStream } from './stream-provisioning.js';

const STREAM = 'APPEND';

function userAdded(userId: string): IdmEvent {
  return anEvent.userAdded({ userId, email: `${userId}@example.com` });
}

/** Appends one event straight through the appender (no EventPublisher retries). */
function append(appender: JetStreamAppender, event: IdmEvent, options: { expectedLast?: number; timeout?: number } = {}) {
  return appender.publish(eventSubject(event), encodeEvent(event), {
    msgID: event.id,
    timeout: options.timeout ?? 5_000,
    ...(options.expectedLast !== undefined ? { expect: { lastSubjectSequence: options.expectedLast } } : {}),
  });
}

/** The event ids stored in the stream, in order. */
async function storedIds(jsm: JetStreamManager): Promise<string[]> {
  const info = await jsm.streams.info(STREAM);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(STREAM, { seq });
    if (m) ids.push(m.json<{ id: string }>().id);
  }
  return ids;
}

describe('JetStreamAppender against a running nats-server', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let appender: JetStreamAppender;
  before(async () => {
    server = await startNatsServer();
    nc = await connectNats({ url: server.url, name: 'spec-appender' });
    jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, { name: STREAM });
    appender = new JetStreamAppender(nc);
  });
  after(async () => {
    await nc.close();
    await server.dispose();
  });

  it('when an event is appended, then the PubAck names the stream and the sequence, and the message carries its id', async () => {
    const event = userAdded('ok-1');
    const ack = await append(appender, event);
    assert.equal(ack.stream, STREAM);
    assert.equal(ack.duplicate, false);
    const stored = await jsm.streams.getMessage(STREAM, { seq: ack.seq });
    assert.equal(stored?.header.get('Nats-Msg-Id'), event.id);
    assert.equal(stored?.json<{ id: string }>().id, event.id);
  });

  it('when many are appended at once, then each gets its own PubAck', async () => {
    const events = Array.from({ length: 200 }, (_, i) => userAdded(`many-${i}`));
    const acks = await Promise.all(events.map((e) => append(appender, e)));
    assert.equal(new Set(acks.map((a) => a.seq)).size, events.length);
    for (const [i, ack] of acks.entries()) {
      const stored = await jsm.streams.getMessage(STREAM, { seq: ack.seq });
      assert.equal(stored?.json<{ id: string }>().id, events[i]?.id);
    }
  });

  it('when the same id is appended twice, then the second is a duplicate of the first', async () => {
    const event = userAdded('dup-1');
    const first = await append(appender, event);
    const second = await append(appender, event);
    assert.deepEqual(second, { ...first, duplicate: true });
  });

  it('when the expected last subject sequence does not match, then JetStreamApiError 10071; EventPublisher makes it WrongLastSequenceError', async () => {
    const first = userAdded('occ-1');
    const ack = await append(appender, first, { expectedLast: 0 });
    await assert.rejects(append(appender, userAdded('occ-1'), { expectedLast: 0 }), (err: unknown) => {
      assert.ok(err instanceof JetStreamApiError);
      assert.equal(err.apiError().err_code, 10071);
      return true;
    });
    await assert.rejects(
      new EventPublisher(appender).publish(userAdded('occ-1'), { expectedLastSubjectSequence: ack.seq - 1 }),
      WrongLastSequenceError,
    );
    const next = await new EventPublisher(appender).publish(userAdded('occ-1'), { expectedLastSubjectSequence: ack.seq });
    assert.equal(next.duplicate, false);
  });

  it('when no stream stores the subject, then NoRespondersError; EventPublisher retries, then MessagingUnavailableError', async () => {
    await assert.rejects(appender.publish('nostream.x', '{}', { msgID: 'n-1', timeout: 5_000 }), NoRespondersError);
    const outsider = anEvent.userAdded({ userId: 'u' });
    let calls = 0;
    const counting = {
      publish: (...args: Parameters<JetStreamAppender['publish']>) => (calls++, appender.publish('nostream.y', args[1], args[2])),
    };
    await assert.rejects(new EventPublisher(counting, { retryForMs: 500 }).publish(outsider), (err: unknown) => {
      assert.ok(err instanceof MessagingUnavailableError);
      assert.match(err.message, /no responders/);
      return true;
    });
    assert.ok(calls >= 2, `retried: ${calls} attempts`);
  });

  it('when the server refuses the message (too large), then JetStreamApiError and EventPublisher does not retry', async () => {
    await jsm.streams.add({ name: 'SMALL', subjects: ['small.>'], max_msg_size: 16 });
    let calls = 0;
    const counting = {
      publish: (...args: Parameters<JetStreamAppender['publish']>) => (calls++, appender.publish('small.a', args[1], args[2])),
    };
    await assert.rejects(new EventPublisher(counting).publish(userAdded('big')), (err: unknown) => {
      assert.ok(err instanceof JetStreamApiError);
      assert.equal(err.apiError().err_code, 10054);
      return true;
    });
    assert.equal(calls, 1);
  });
});

describe('JetStreamAppender when the server hangs, dies or the connection closes', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  before(async () => {
    server = await startNatsServer();
    nc = await connectNats({ url: server.url, name: 'spec-appender-faults' });
    jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, { name: STREAM });
  });
  after(async () => {
    server.resume();
    await nc.close();
    await server.dispose();
  });

  it('when the server does not answer, then the append times out, and later ones succeed once it answers again', async () => {
    const appender = new JetStreamAppender(nc);
    await server.pause();
    try {
      await assert.rejects(append(appender, userAdded('slow-1'), { timeout: 300 }), TimeoutError);
    } finally {
      server.resume();
    }
    const ack = await append(appender, userAdded('slow-2'));
    assert.equal(ack.duplicate, false);
  });

  it('when the PubAck of an append is lost (the server paused past the ack timeout), then the retry is a duplicate of it, which EventPublisher reports as stored, once', async () => {
    const appender = new JetStreamAppender(nc);
    let attempts = 0;
    const counting = { publish: (...args: Parameters<JetStreamAppender['publish']>) => (attempts++, appender.publish(...args)) };
    const publisher = new EventPublisher(counting, { ackTimeoutMs: 300 });
    const told: string[] = [];
    publisher.onAppended((e) => told.push(e.id));
    const event = userAdded('lost-ack');
    const before = await storedIds(jsm);
    // Paused, the server holds the first attempt unread; it stores it once resumed, after its append timed out.
    await server.pause();
    const publishing = publisher.publish(event);
    try {
      await waitFor(() => attempts >= 2, { message: 'the first attempt timed out and was retried' });
    } finally {
      server.resume();
    }
    const receipt = await publishing;
    const stored = await jsm.streams.getMessage(STREAM, { seq: receipt.seq });
    assert.equal(stored?.json<{ id: string }>().id, event.id);
    assert.deepEqual(receipt, { seq: receipt.seq, duplicate: false }, 'stored by this call (its first attempt), not by someone else');
    assert.deepEqual(told, [event.id], 'the appended listeners hear of it once');
    assert.deepEqual((await storedIds(jsm)).slice(before.length), [event.id], 'one copy');
  });

  it('when the server is killed with appends waiting and restarted, then they are retried and each event is stored once', async () => {
    const appender = new JetStreamAppender(nc);
    let attempts = 0;
    const counting = { publish: (...args: Parameters<JetStreamAppender['publish']>) => (attempts++, appender.publish(...args)) };
    // A PubAck timeout longer than the retry window: only the disconnect can end the waiting appends.
    const publisher = new EventPublisher(counting, { ackTimeoutMs: 60_000 });
    const before = await storedIds(jsm);
    const events = Array.from({ length: 50 }, (_, i) => userAdded(`kill-${i}`));
    // Paused, the server reads none of them: every append is still waiting when it dies.
    await server.pause();
    const receipts = publisher.publishAll(events);
    await server.kill();
    await server.restart();
    const stored = await receipts;
    assert.equal(stored.length, events.length);
    assert.ok(attempts > events.length, `the waiting appends were retried: ${attempts} attempts for ${events.length} events`);
    const ids = (await storedIds(jsm)).slice(before.length);
    assert.deepEqual(ids.sort(), events.map((e) => e.id).sort());
  });

  it('when the connection is down, then an append fails at once with ConnectionError (nats.js would drop it at the reconnect)', async () => {
    const appender = new JetStreamAppender(nc);
    const statuses = nc.status();
    await server.kill();
    for await (const status of statuses) if (status.type === 'disconnect') break;
    await new Promise(setImmediate); // the appender's own status listener runs first
    try {
      await assert.rejects(append(appender, userAdded('down-1'), { timeout: 60_000 }), ConnectionError);
    } finally {
      await server.restart();
    }
    const ack = await new EventPublisher(appender, { ackTimeoutMs: 60_000 }).publish(userAdded('down-2'));
    assert.equal(ack.duplicate, false);
  });

  it('when the server is killed after storing, then a retry of the same id is a duplicate, not a second copy', async () => {
    const appender = new JetStreamAppender(nc);
    const event = userAdded('kill-dup');
    const first = await append(appender, event);
    await server.kill();
    await server.restart();
    const retried = await new EventPublisher(appender).publish(event);
    assert.deepEqual(retried, { seq: first.seq, duplicate: true });
  });

  it('when the connection closes with appends waiting, then they fail at once and later appends fail too', async () => {
    const own = await connectNats({ url: server.url, name: 'spec-appender-close' });
    const appender = new JetStreamAppender(own);
    await server.pause();
    try {
      const waiting = append(appender, userAdded('close-1'), { timeout: 60_000 });
      await own.close();
      await assert.rejects(waiting, ClosedConnectionError);
      await assert.rejects(append(appender, userAdded('close-2')), ClosedConnectionError);
    } finally {
      server.resume();
    }
  });
});

describe('JetStreamAppender when its identity may not publish to the subject', () => {
  let server: NatsServerHandle;
  let admin: NatsConnection;
  let limited: NatsConnection;
  before(async () => {
    // One account with JetStream; `limited` may append user events only (and use the JetStream API).
    server = await startNatsServerWithLimitedUser(['idm.user.>']);
    admin = await connectNats({ url: server.url, name: 'spec-appender-admin', ...LIMITED_NATS_USERS.admin });
    await ensureEventStream(await jetstreamManager(admin), { name: STREAM });
    limited = await connectNats({ url: server.url, name: 'spec-appender-limited', ...LIMITED_NATS_USERS.limited });
  });
  after(async () => {
    await limited?.close();
    await admin?.close();
    await server?.dispose();
  });

  const passwordChanged = (userId: string): IdmEvent => anEvent.passwordChanged({ userId });

  it('when the server refuses the publish, then that append fails with PermissionViolationError (not a timeout), and appends to allowed subjects still succeed', async () => {
    const appender = new JetStreamAppender(limited);
    const refused = passwordChanged('perm-1');
    // A timeout far beyond the test's: only the server's refusal can end this append in time.
    const waiting = appender.publish(eventSubject(refused), encodeEvent(refused), { msgID: refused.id, timeout: 600_000 });
    const allowed = append(appender, userAdded('perm-ok-1'));
    await assert.rejects(waiting, (err: unknown) => {
      assert.ok(err instanceof PermissionViolationError, String(err));
      assert.equal(err.operation, 'publish');
      assert.equal(err.subject, eventSubject(refused));
      return true;
    });
    assert.equal((await allowed).duplicate, false);
    assert.equal((await append(appender, userAdded('perm-ok-2'))).duplicate, false);
  });

  it('when the server refuses the publish, then EventPublisher does not retry it: the refusal will not change until the permissions do', async () => {
    let calls = 0;
    const appender = new JetStreamAppender(limited);
    const counting = {
      publish: (...args: Parameters<JetStreamAppender['publish']>) => (calls++, appender.publish(...args)),
    };
    await assert.rejects(
      new EventPublisher(counting, { ackTimeoutMs: 600_000, retryForMs: 600_000 }).publish(passwordChanged('perm-2')),
      (err: unknown) => {
        assert.ok(err instanceof PermissionViolationError, String(err));
        return true;
      },
    );
    assert.equal(calls, 1);
  });
});
