import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseReplayArgs, rate, ReplayArgsError } from './replay-protocol.js';

describe('parseReplayArgs', () => {
  it('reads every flag', () => {
    assert.deepEqual(parseReplayArgs(['--from-seq', '42', '--dry-run', '--batch-size', '500', '--schema', 's1']), {
      dryRun: true,
      force: false,
      fromSeq: 42,
      batchSize: 500,
      schema: 's1',
    });
    assert.deepEqual(parseReplayArgs(['--since', '2026-01-01T00:00:00Z', '--force']), {
      dryRun: false,
      force: true,
      since: new Date('2026-01-01T00:00:00Z'),
    });
    assert.deepEqual(parseReplayArgs([]), { dryRun: false, force: false });
  });
  it('rejects what it cannot use, saying which flag', () => {
    assert.throws(() => parseReplayArgs(['--from-seq', '1', '--since', '2026-01-01T00:00:00Z']), /not both/);
    assert.throws(() => parseReplayArgs(['--from-seq', '0']), /--from-seq must be a positive integer/);
    assert.throws(() => parseReplayArgs(['--since', 'yesterday']), /--since must be an ISO time/);
    assert.throws(() => parseReplayArgs(['--bogus']), ReplayArgsError);
  });
  it('computes a rate without dividing by zero', () => {
    assert.equal(rate(5_000, 2_000), 2_500);
    assert.equal(rate(10, 0), 0);
  });
});
