import { errorMessage, redactUrls } from '@idm/config';

/**
 * What an {@link OutboxRelay} tells its `onReport` option about a run of failed rounds, at a
 * bounded rate: `failing` for the run's first failed round and then at most once per
 * `reportEveryMs` while rounds keep failing, `recovered` once when a round succeeds again.
 */
export type OutboxRelayReport =
  | {
      readonly kind: 'failing';
      /** Why the latest round failed (the publisher's or the database's error). */
      readonly error: unknown;
      /** Failed rounds in a row so far, this one included (1: the run's first). */
      readonly failedRounds: number;
      /** When the run's first failed round ended. */
      readonly since: Date;
    }
  | {
      readonly kind: 'recovered';
      /** Failed rounds the run had before this successful one. */
      readonly failedRounds: number;
      /** When the run's first failed round ended. */
      readonly since: Date;
    };

/** The part of a logger {@link logOutboxRelayReports} writes to (Nest's `Logger` and pino's have it). */
export interface OutboxRelayLogger {
  warn(message: string): void;
  log(message: string): void;
}

/**
 * The one line of a report: the cause is the error's message (e.g. `Permissions Violation for
 * Publish to "idm.user.u1.password"`), with URL credentials masked; never a row's payload, which
 * the relay never puts in a report.
 */
export function describeOutboxRelayReport(report: OutboxRelayReport): string {
  const since = report.since.toISOString();
  if (report.kind === 'recovered') return `publishing the outbox works again after ${report.failedRounds} failed round(s) since ${since}`;
  const cause = redactUrls(errorMessage(report.error));
  if (report.failedRounds === 1) return `publishing the outbox failed: ${cause}; the rows stay and are retried with backoff`;
  return `publishing the outbox still failing (${report.failedRounds} rounds since ${since}): ${cause}; the rows stay and are retried with backoff`;
}

/**
 * The apps' `onReport`: a `failing` report as a warning, `recovered` as a log line, both
 * {@link describeOutboxRelayReport}. The relay bounds how often it reports, so this does not.
 *
 * @example
 * ```ts
 * new OutboxRelay<IdmEvent>(dataSource, publisher, { onReport: logOutboxRelayReports(new Logger('OutboxRelay')) });
 * ```
 */
export function logOutboxRelayReports(logger: OutboxRelayLogger): (report: OutboxRelayReport) => void {
  return (report) => {
    const line = describeOutboxRelayReport(report);
    if (report.kind === 'failing') logger.warn(line);
    else logger.log(line);
  };
}
