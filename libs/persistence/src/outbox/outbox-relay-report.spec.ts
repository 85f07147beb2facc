import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeOutboxRelayReport, logOutboxRelayReports, type OutboxRelayReport } from './outbox-relay-report.js';

const since = new Date('2026-01-01T00:00:00Z');
const refused = new Error('Permissions Violation for Publish to "idm.user.u1.password"');

describe('OutboxRelay reports as log lines', () => {
  it('when the first round of a run failed, then the line names the cause and says the rows are retried', () => {
    assert.equal(
      describeOutboxRelayReport({ kind: 'failing', error: refused, failedRounds: 1, since }),
      'publishing the outbox failed: Permissions Violation for Publish to "idm.user.u1.password"; the rows stay and are retried with backoff',
    );
  });

  it('when rounds keep failing, then the line counts them and says since when', () => {
    assert.equal(
      describeOutboxRelayReport({ kind: 'failing', error: refused, failedRounds: 7, since }),
      'publishing the outbox still failing (7 rounds since 2026-01-01T00:00:00.000Z): Permissions Violation for Publish to "idm.user.u1.password"; the rows stay and are retried with backoff',
    );
  });

  it('when the cause quotes a URL with credentials, then they are masked', () => {
    const line = describeOutboxRelayReport({
      kind: 'failing',
      error: new Error('connection to nats://svc:hunter2@nats:4222 lost'),
      failedRounds: 1,
      since,
    });
    assert.doesNotMatch(line, /hunter2/);
    assert.match(line, /nats:\/\/svc:\*\*\*@nats:4222/);
  });

  it('when logged, then failing is a warning and the recovery a log line', () => {
    const lines: string[] = [];
    const log = logOutboxRelayReports({ warn: (m) => lines.push(`warn ${m}`), log: (m) => lines.push(`log ${m}`) });
    const reports: OutboxRelayReport[] = [
      { kind: 'failing', error: refused, failedRounds: 1, since },
      { kind: 'recovered', failedRounds: 3, since },
    ];
    reports.forEach(log);
    assert.deepEqual(lines, [
      'warn publishing the outbox failed: Permissions Violation for Publish to "idm.user.u1.password"; the rows stay and are retried with backoff',
      'log publishing the outbox works again after 3 failed round(s) since 2026-01-01T00:00:00.000Z',
    ]);
  });
});
