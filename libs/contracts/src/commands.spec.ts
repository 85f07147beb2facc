import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { passwordChangeRequestSchema } from './commands.js';

const request = (userId: unknown, password: unknown = 'S3cret-pass', extra: Record<string, unknown> = {}) =>
  passwordChangeRequestSchema.safeParse({ userId, password, ...extra });
const problems = (r: ReturnType<typeof request>) => (r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));

describe('passwordChangeRequestSchema', () => {
  it('accepts ordinary ids, including dotted ones (escaped into one subject token), and defaults origin', () => {
    for (const id of ['u1001', 'jane.doe@example.com', 'Zoë Müller', 'a-b_c~d']) {
      const r = request(id);
      assert.ok(r.success, `${id}: ${problems(r).join('; ')}`);
      assert.equal(r.data.origin, 'source');
    }
  });

  it('refuses NATS wildcards, control characters and lone surrogates in the user id, naming the rule', () => {
    assert.deepEqual(problems(request('users.*')), ['userId: must not contain the NATS wildcards * or >']);
    assert.deepEqual(problems(request('>')), ['userId: must not contain the NATS wildcards * or >']);
    assert.deepEqual(problems(request('eve\nforged')), ['userId: must not contain control characters']);
    assert.deepEqual(problems(request('nul\u0000')), ['userId: must not contain control characters']);
    assert.deepEqual(problems(request('x\ud800')), ['userId: must be well-formed Unicode (no lone surrogate)']);
  });

  it('refuses an empty or an over-long password by length, and never quotes a value', () => {
    const huge = `Huge-canary-${'x'.repeat(1_000_000)}`;
    const found = problems(request('u1', huge));
    assert.deepEqual(found, ['password: Too big: expected string to have <=1024 characters']);
    assert.deepEqual(problems(request('u1', '')), ['password: Too small: expected string to have >=1 characters']);
    const origin = problems(request('u1', 'Origin-canary', { origin: 'Origin-canary' }));
    assert.equal(origin.length, 1);
    assert.ok(!origin[0]!.includes('Origin-canary'));
  });
});
