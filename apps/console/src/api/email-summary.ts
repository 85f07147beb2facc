import { EventTypes, type IdmEvent } from '@idm/contracts';

/** The outcomes an email event records. */
export type EmailOutcome = 'queued' | 'sent' | 'failed' | 'abandoned';

/** Email events by type and outcome, and per hour. */
export interface EmailSummary {
  readonly hours: readonly string[];
  /** emailType → outcome → count over the window. */
  readonly byType: Readonly<Record<string, Readonly<Record<EmailOutcome, number>>>>;
  /** outcome → count per hour (same order as `hours`). */
  readonly perHour: Readonly<Record<EmailOutcome, readonly number[]>>;
}

const OUTCOME: Partial<Record<string, EmailOutcome>> = {
  [EventTypes.EmailQueued]: 'queued',
  [EventTypes.EmailSent]: 'sent',
  [EventTypes.EmailFailed]: 'failed',
  [EventTypes.EmailAbandoned]: 'abandoned',
};

/** Counts email events by type and outcome over the `hours` whole hours ending with `now`'s. Pure. */
export function emailSummary(events: readonly IdmEvent[], now: Date, hours: number): EmailSummary {
  const lastStart = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  const firstStart = lastStart - (hours - 1) * 3_600_000;
  const zero = (): number[] => new Array<number>(hours).fill(0);
  const perHour: Record<EmailOutcome, number[]> = { queued: zero(), sent: zero(), failed: zero(), abandoned: zero() };
  const byType: Record<string, Record<EmailOutcome, number>> = {};
  for (const e of events) {
    const outcome = OUTCOME[e.type];
    if (!outcome) continue;
    const index = Math.floor((new Date(e.time).getTime() - firstStart) / 3_600_000);
    if (index < 0 || index >= hours) continue;
    perHour[outcome][index]! += 1;
    const type = (e.data as { emailType?: string }).emailType ?? 'unknown';
    (byType[type] ??= { queued: 0, sent: 0, failed: 0, abandoned: 0 })[outcome] += 1;
  }
  return { hours: Array.from({ length: hours }, (_, i) => new Date(firstStart + i * 3_600_000).toISOString()), byType, perHour };
}
