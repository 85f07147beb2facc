import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { replyBody, UNENCODABLE_REPLY } from './reply-body.js';

/** A logger that keeps its lines. */
function lines() {
  const logged: string[] = [];
  return { logged, logger: { error: (message: string) => logged.push(message) } };
}

describe('replyBody', () => {
  it('encodes an answer JSON can hold, and logs nothing', () => {
    const { logged, logger } = lines();
    assert.equal(replyBody({ ok: true, n: 1 }, 'idm.cmd.x', logger), '{"ok":true,"n":1}');
    assert.deepEqual(logged, []);
  });

  it('answers a BigInt with the fixed error reply and one line naming the subject, not the answer', () => {
    const { logged, logger } = lines();
    assert.equal(replyBody({ ok: true, secret: 'hunter2', n: 10n }, 'idm.cmd.x', logger), UNENCODABLE_REPLY);
    assert.deepEqual(logged, ['idm.cmd.x: the answer could not be encoded as JSON: Do not know how to serialize a BigInt']);
    assert.deepEqual(JSON.parse(UNENCODABLE_REPLY), { ok: false, error: 'the answer could not be encoded' });
  });

  it('logs the first line only of a cycle (the rest is the property path)', () => {
    const { logged, logger } = lines();
    const answer: Record<string, unknown> = { password: 'hunter2' };
    answer.self = answer;
    assert.equal(replyBody(answer, 'idm.cmd.x', logger), UNENCODABLE_REPLY);
    assert.deepEqual(logged, ['idm.cmd.x: the answer could not be encoded as JSON: Converting circular structure to JSON']);
  });

  it('logs only the name of what a toJSON threw: its message may hold anything', () => {
    const { logged, logger } = lines();
    const answer = {
      toJSON: () => {
        throw new TypeError('hunter2 is not allowed');
      },
    };
    assert.equal(replyBody(answer, 'idm.cmd.x', logger), UNENCODABLE_REPLY);
    assert.equal(logged.length, 1);
    assert.ok(!logged[0]!.includes('hunter2'), logged[0]);
    assert.match(logged[0]!, /TypeError thrown while encoding/);
  });

  it('answers undefined (JSON.stringify gives no text) with the fixed error reply', () => {
    const { logged, logger } = lines();
    assert.equal(replyBody(undefined, 'idm.cmd.x', logger), UNENCODABLE_REPLY);
    assert.equal(
      replyBody(() => 1, 'idm.cmd.x', logger),
      UNENCODABLE_REPLY,
    );
    assert.deepEqual(logged, [
      'idm.cmd.x: the answer could not be encoded as JSON: it was undefined',
      'idm.cmd.x: the answer could not be encoded as JSON: it was function',
    ]);
  });
});
