import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { boundedDeadLetterRecord, type DeadLetterSource } from './dead-letter.js';

const MAX = 1024 * 1024;
const source = (data: Uint8Array, overrides: Partial<DeadLetterSource> = {}): DeadLetterSource => ({
  consumer: 'notifier',
  reason: 'undecodable',
  code: 'IDM_DECODE:json',
  error: 'not JSON',
  stream: 'IDM_EVENTS',
  streamSequence: 4711,
  subject: 'idm.user.added.u1',
  deliveryCount: 1,
  data,
  headers: { 'Nats-Msg-Id': ['e-1'] },
  now: new Date('2026-03-01T10:00:00.000Z'),
  ...overrides,
});
const size = (record: unknown): number => Buffer.byteLength(JSON.stringify(record));
const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('a dead-letter record never exceeds the dead-letter stream limit', () => {
  it('when the payload is small, then it is kept whole, with its size and hash', () => {
    const data = Buffer.from('{"broken":');
    const record = boundedDeadLetterRecord(source(data), MAX);
    assert.equal(record.payload, '{"broken":');
    assert.equal(record.payloadEncoding, 'utf8');
    assert.equal(record.payloadTruncated, false);
    assert.equal(record.payloadSize, data.length);
    assert.equal(record.payloadSha256, sha(data));
  });

  it('when a text payload near the limit grows by JSON escaping, then it is cut to a prefix that fits, still naming stream and sequence', () => {
    const data = Buffer.from('"'.repeat(MAX - 100)); // every quote doubles when escaped
    const record = boundedDeadLetterRecord(source(data), MAX);
    assert.ok(size(record) <= MAX - 1024, `record of ${size(record)} bytes`);
    assert.equal(record.payloadTruncated, true);
    assert.ok(record.payload.length > MAX / 4, 'as much of the payload as fits is kept');
    assert.ok(data.toString('utf8').startsWith(record.payload));
    assert.equal(record.payloadSize, data.length);
    assert.equal(record.payloadSha256, sha(data));
    assert.deepEqual([record.stream, record.streamSequence, record.subject], ['IDM_EVENTS', 4711, 'idm.user.added.u1']);
  });

  it('when a binary payload is larger than the limit, then its base64 prefix fits', () => {
    const data = Buffer.alloc(3 * MAX, 0xff);
    const record = boundedDeadLetterRecord(source(data), MAX);
    assert.equal(record.payloadEncoding, 'base64');
    assert.equal(record.payloadTruncated, true);
    assert.ok(size(record) <= MAX - 1024);
    assert.ok(data.subarray(0, Buffer.from(record.payload, 'base64').length).equals(Buffer.from(record.payload, 'base64')));
  });

  it('when a multi-byte text is cut, then the cut falls on a character boundary', () => {
    const data = Buffer.from('é€😀'.repeat(200_000));
    const record = boundedDeadLetterRecord(source(data), 64 * 1024);
    assert.ok(size(record) <= 63 * 1024);
    assert.equal(record.payload.includes('\uFFFD'), false);
    assert.ok(data.toString('utf8').startsWith(record.payload));
  });

  it('when the error text is huge, then it is cut and the payload keeps its room', () => {
    const record = boundedDeadLetterRecord(source(Buffer.from('{}'), { error: 'x'.repeat(MAX) }), MAX);
    assert.ok(record.error.length < 5_000);
    assert.match(record.error, /1048576 characters/);
    assert.equal(record.payloadTruncated, false);
  });

  it('when the headers alone are huge, then they are omitted and say so', () => {
    const record = boundedDeadLetterRecord(source(Buffer.from('{}'), { headers: { 'X-Big': ['y'.repeat(MAX)] } }), MAX);
    assert.deepEqual(record.headers, {});
    assert.equal(record.headersOmitted, true);
    assert.ok(size(record) <= MAX);
  });
});
