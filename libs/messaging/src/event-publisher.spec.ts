import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JetStreamApiError, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { ClosedConnectionError, ConnectionError, TimeoutError } from '@nats-io/nats-core';
import { anEvent } from '@idm/testing';
import { MessagingUnavailableError, WrongLastSequenceError } from './errors.js';
import { EventPublisher, type PublishReceipt } from './event-publisher.js';
import { NotConnectedError } from './jetstream-appender.js';

/** A JetStream client whose `publish` fails with the given errors, in order, then stores. */
function scriptedClient(failures: Error[]): { js: JetStreamClient; calls: () => number } {
  let calls = 0;
  const publish = (): Promise<PubAck> => {
    calls += 1;
    const failure = failures.shift();
    if (failure) return Promise.reject(failure);
    return Promise.resolve({ stream: 'IDM_EVENTS', seq: 42, duplicate: false, domain: '' } as PubAck);
  };
  return { js: { publish } as unknown as JetStreamClient, calls: () => calls };
}

/** A JetStream client whose `publish` fails with the given errors, in order, then answers that the id is a duplicate. */
function duplicateAfter(failures: Error[]): JetStreamClient {
  const publish = (): Promise<PubAck> => {
    const failure = failures.shift();
    if (failure) return Promise.reject(failure);
    return Promise.resolve({ stream: 'IDM_EVENTS', seq: 7, duplicate: true, domain: '' } as PubAck);
  };
  return { publish } as unknown as JetStreamClient;
}

/** What the client throws on "no responders" (a stream without a leader); the class itself is not exported. */
class JetStreamNotEnabled extends Error {
  override readonly name = 'JetStreamNotEnabled';
}

const apiError = (errCode: number, code: number, description: string) => new JetStreamApiError({ err_code: errCode, code, description });

describe('appending an event while the stream is failing over', () => {
  it('when the stream has no leader for a few attempts (no responders), then it retries with backoff and stores it', async () => {
    const client = scriptedClient([
      new JetStreamNotEnabled('jetstream is not enabled'),
      new JetStreamNotEnabled('jetstream is not enabled'),
      apiError(10008, 503, 'JetStream system temporarily unavailable'),
    ]);
    const receipt = await new EventPublisher(client.js, { retryForMs: 10_000 }).publish(anEvent.userAdded());
    assert.deepEqual(receipt, { seq: 42, duplicate: false });
    assert.equal(client.calls(), 4);
  });

  it('when it does not come back within retryForMs, then it fails with MessagingUnavailableError naming the cause', async () => {
    const client = scriptedClient(Array.from({ length: 100 }, () => new JetStreamNotEnabled('jetstream is not enabled')));
    await assert.rejects(new EventPublisher(client.js, { retryForMs: 500 }).publish(anEvent.userAdded()), (err: unknown) => {
      assert.ok(err instanceof MessagingUnavailableError);
      assert.match(err.message, /jetstream is not enabled/);
      return true;
    });
    assert.ok(client.calls() >= 2 && client.calls() < 100, `retried a few times, not 100: ${client.calls()}`);
  });

  it('when the server refuses the event (too large), then it is not retried', async () => {
    const client = scriptedClient([apiError(10054, 400, 'message size exceeds maximum allowed')]);
    await assert.rejects(new EventPublisher(client.js).publish(anEvent.userAdded()), JetStreamApiError);
    assert.equal(client.calls(), 1);
  });

  it('when the expected last subject sequence does not match, then WrongLastSequenceError at once', async () => {
    const client = scriptedClient([apiError(10071, 400, 'wrong last sequence: 7')]);
    await assert.rejects(
      new EventPublisher(client.js).publish(anEvent.userAdded(), { expectedLastSubjectSequence: 3 }),
      WrongLastSequenceError,
    );
    assert.equal(client.calls(), 1);
  });
});

/** A JetStream client that records what each append sent, and stores it. */
function recordingClient(): { js: JetStreamClient; sent: Array<{ subject: string; payload: string; msgID: string | undefined }> } {
  const sent: Array<{ subject: string; payload: string; msgID: string | undefined }> = [];
  const publish = (subject: string, payload: Uint8Array | string, options?: { msgID?: string }): Promise<PubAck> => {
    sent.push({ subject, payload: typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'), msgID: options?.msgID });
    return Promise.resolve({ stream: 'IDM_EVENTS', seq: sent.length, duplicate: false, domain: '' } as PubAck);
  };
  return { js: { publish } as unknown as JetStreamClient, sent };
}

describe('appending an event the outbox stored (publishStored)', () => {
  it('sends the stored JSON as it is, on the subject and with the message id that publish would use', async () => {
    const event = anEvent.userAdded({ userId: 'u-7', email: 'ada@example.com' });
    const client = recordingClient();
    const publisher = new EventPublisher(client.js);
    await publisher.publish(event);
    await publisher.publishStored({ id: event.id, type: event.type, subject: event.subject, payload: JSON.stringify(event) });
    assert.equal(client.sent.length, 2);
    assert.deepEqual(client.sent[1], client.sent[0]);
  });

  it('tells the appended listeners the type, and the data when they read it', async () => {
    const event = anEvent.userAdded({ userId: 'u-8', email: 'bob@example.com' });
    const publisher = new EventPublisher(recordingClient().js);
    const seen: Array<{ id: string; type: string; subject: string; data: unknown }> = [];
    publisher.onAppended((e) => seen.push({ id: e.id, type: e.type, subject: e.subject, data: e.data }));
    await publisher.publishStored({ id: event.id, type: event.type, subject: event.subject, payload: JSON.stringify(event) });
    assert.deepEqual(seen, [{ id: event.id, type: event.type, subject: 'u-8', data: event.data }]);
  });
});

describe('appending an event the server already has (a duplicate answer)', () => {
  /** Publishes one event through `js`; returns the receipt and the ids the appended listeners heard of. */
  async function publishOnce(js: JetStreamClient): Promise<{ receipt: PublishReceipt; told: string[] }> {
    const publisher = new EventPublisher(js, { retryForMs: 10_000 });
    const told: string[] = [];
    publisher.onAppended((e) => told.push(e.id));
    const event = anEvent.userAdded();
    const receipt = await publisher.publish(event);
    return { receipt, told: told.map((id) => (id === event.id ? 'the event' : id)) };
  }

  it('when the first attempt is a duplicate, then someone else stored it: duplicate, and no listener is told', async () => {
    assert.deepEqual(await publishOnce(duplicateAfter([])), { receipt: { seq: 7, duplicate: true }, told: [] });
  });

  for (const [lost, error] of [
    ['lost to a timeout', new TimeoutError()],
    ['lost with the connection', new ConnectionError('disconnected before the PubAck arrived')],
    ['lost with a closed connection', new ClosedConnectionError()],
  ] as const) {
    it(`when a retry is a duplicate after an attempt whose answer was ${lost}, then that attempt stored it: stored, told once`, async () => {
      assert.deepEqual(await publishOnce(duplicateAfter([error, error])), {
        receipt: { seq: 7, duplicate: false },
        told: ['the event'],
      });
    });
  }

  it('when a retry is a duplicate after attempts the server answered (no responders, temporarily unavailable) or that were never sent (not connected), then nothing of this call was stored: duplicate, not told', async () => {
    const answered = [
      new JetStreamNotEnabled('jetstream is not enabled'),
      apiError(10008, 503, 'JetStream system temporarily unavailable'),
      new NotConnectedError(),
    ];
    assert.deepEqual(await publishOnce(duplicateAfter(answered)), { receipt: { seq: 7, duplicate: true }, told: [] });
  });
});
