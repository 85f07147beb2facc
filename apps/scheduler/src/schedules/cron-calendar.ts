import { errorMessage } from '@idm/config';
import { Cron } from 'croner';

/**
 * The slots of one schedule, as data the tick decider can ask about. Keeping croner behind this
 * small interface lets the decider stay pure: it never reads the wall clock, only `at` values.
 */
export interface SlotCalendar {
  /** The latest slot at or before `at`, or undefined if the expression never fired before it. */
  latestAtOrBefore(at: Date): Date | undefined;
  /** The first slot strictly after `at`, or undefined if there is none. */
  nextAfter(at: Date): Date | undefined;
}

/** Thrown by {@link compileCron} with croner's own explanation of the fault. */
export class CronExpressionError extends Error {
  override readonly name = 'CronExpressionError';
  readonly code = 'IDM_CRON_EXPRESSION_INVALID';
}

/**
 * Parses a 5-field (minutes) or 6-field (seconds first) expression in an IANA time zone.
 * The returned job is paused and has no callback: it only answers questions about slots.
 */
export function compileCron(expression: string, timezone: string): Cron {
  const fields = expression.trim().split(/\s+/);
  // croner reads any string with a ':' as a one-off ISO date and '@' as a nickname; we only want cron.
  if (fields.length !== 5 && fields.length !== 6) {
    throw new CronExpressionError(`expected 5 fields (or 6 with seconds), got ${fields.length} in ${JSON.stringify(expression)}`);
  }
  if (/[:@]/.test(expression)) throw new CronExpressionError(`unexpected ':' or '@' in ${JSON.stringify(expression)}`);
  let job: Cron;
  try {
    job = new Cron(expression, { timezone, mode: '5-or-6-parts', paused: true });
  } catch (cause) {
    throw new CronExpressionError(errorMessage(cause).replace(/^CronPattern: /, ''), { cause });
  }
  return job;
}

/** A {@link SlotCalendar} backed by croner. */
export function cronCalendar(expression: string, timezone: string): SlotCalendar {
  const job = compileCron(expression, timezone);
  return {
    // croner's previousRuns excludes a run exactly at the reference, so look 1 ms later.
    latestAtOrBefore: (at) => job.previousRuns(1, new Date(at.getTime() + 1))[0],
    nextAfter: (at) => job.nextRun(at) ?? undefined,
  };
}
