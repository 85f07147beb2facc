import { appendFileSync } from 'node:fs';

/** One row of the fault suite's table (`npm run test:faults` prints them all at the end). */
export interface FaultFigures {
  /** What was injected, e.g. `kill -9 notifier mid-drain (SQLite)`. */
  readonly fault: string;
  /** The work in flight when it happened, e.g. `300 emails, 104 sent`. */
  readonly inFlight: string;
  /** Units of work that never completed. */
  readonly lost: number;
  /** Units done twice, with how (e.g. `3 emails, same Message-ID`). */
  readonly duplicated: string;
  /** From the fault to the moment all work was done, ms. */
  readonly recoveryMs: number;
}

/**
 * Records a fault's figures: into the report file the runner gave (`IDM_FAULT_REPORT`), and on
 * the test's own output. These are observations for the operations guide, not assertions: the
 * tests assert on what was lost or duplicated, never on how long recovery took.
 */
export function recordFault(figures: FaultFigures, diagnostic: (message: string) => void = console.log): void {
  const row = { ...figures, recovery: `${(figures.recoveryMs / 1000).toFixed(1)} s` };
  diagnostic(`${row.fault}: in flight ${row.inFlight}; lost ${row.lost}; duplicated ${row.duplicated}; recovered in ${row.recovery}`);
  const file = process.env.IDM_FAULT_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}
