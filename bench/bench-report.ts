import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** One measured row: `items` done in `seconds`. Extra figures (peak RSS, …) go in `figures`. */
export interface BenchRow {
  readonly name: string;
  readonly items: number;
  readonly seconds: number;
  readonly note?: string;
  /** Named extra figures of the row, e.g. `{ peakRssMb: 212 }`; goals may test them. */
  readonly figures?: Readonly<Record<string, number>>;
}

/** A row's goal: `text` says what it asks, `measured` what the row did, `check` whether that is enough. */
export interface BenchGoal {
  readonly text: string;
  measured(row: BenchRow, vs: BenchRow | undefined): string;
  check(row: BenchRow, vs: BenchRow | undefined): boolean;
}

const rateOf = (row: BenchRow): number => row.items / row.seconds;
const percent = (ratio: number): string => `${(ratio * 100).toFixed(0)} %`;
const noComparison = 'no compared row';

/** The goals the benches use; a goal that needs a comparison row is missed without one. */
export const goals = {
  /** The row's rate is at least `ratio` of the rate of the row it is compared with. */
  ratioAtLeast: (ratio: number): BenchGoal => ({
    text: `≥ ${percent(ratio)} of the compared row's rate`,
    measured: (row, vs) => (vs ? `${percent(rateOf(row) / rateOf(vs))} of ${vs.name}` : noComparison),
    check: (row, vs) => vs !== undefined && rateOf(row) / rateOf(vs) >= ratio,
  }),
  /** The row's rate is at least `rate` items per second. */
  rateAtLeast: (rate: number, unit: string): BenchGoal => ({
    text: `≥ ${rate.toLocaleString('en')} ${unit}/s`,
    measured: (row) => `${Math.round(rateOf(row)).toLocaleString('en')} ${unit}/s`,
    check: (row) => rateOf(row) >= rate,
  }),
  /** The row took less than `seconds`. */
  secondsUnder: (seconds: number): BenchGoal => ({
    text: `< ${seconds} s`,
    measured: (row) => `${row.seconds.toFixed(2)} s`,
    check: (row) => row.seconds < seconds,
  }),
  /** The row took at most `factor` times as long as the row it is compared with (flat cost at scale). */
  slowdownAtMost: (factor: number): BenchGoal => ({
    text: `≤ ${factor}× the compared row's time`,
    measured: (row, vs) => (vs ? `${(row.seconds / vs.seconds).toFixed(2)}× the time of ${vs.name}` : noComparison),
    check: (row, vs) => vs !== undefined && row.seconds / vs.seconds <= factor,
  }),
  /** The row's figure `name` is below `limit` (`unit` is only for the words). */
  figureUnder: (name: string, limit: number, unit = ''): BenchGoal => ({
    text: `${name} < ${limit}${unit ? ` ${unit}` : ''}`,
    measured: (row) => `${name} ${row.figures?.[name] ?? 'not measured'}${unit ? ` ${unit}` : ''}`,
    check: (row) => row.figures?.[name] !== undefined && row.figures[name] < limit,
  }),
} as const;

/** Facts about the machine when a row was measured; figures from different loads do not compare. */
export interface MachineFacts {
  readonly cores: number;
  readonly loadAverage: readonly number[];
  readonly node: string;
  readonly date: string;
}

/** The current machine facts. */
export function machineFacts(): MachineFacts {
  return {
    cores: cpus().length,
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** A row as written to the JSON report (one JSON object per line while a run is under way). */
export interface ReportedRow extends BenchRow {
  readonly bench: string;
  readonly unit: string;
  readonly rate: number;
  /** This row's rate / the compared row's rate; null without a comparison row. */
  readonly ratio: number | null;
  /** The row it is compared with (the raw limit measured in the same run), as measured. */
  readonly vs: (BenchRow & { readonly rate: number }) | null;
  /** Each goal: what it asks, what the row did, and whether that met it. */
  readonly goals: ReadonlyArray<{ readonly text: string; readonly measured: string; readonly met: boolean }>;
  /** Every goal met; null when the row has no goal. */
  readonly met: boolean | null;
  readonly machine: MachineFacts;
}

/** Options of {@link BenchReport.add}. */
export interface RowOptions {
  /** The row this one is compared with (ratio, slowdown goals); usually the raw limit of the same run. */
  readonly vs?: BenchRow;
  readonly goals?: readonly BenchGoal[];
}

/**
 * The rows of one benchmark: printed as a Markdown table, each missed goal said in words with its
 * ratio, and — when `scripts/run-bench.mjs --json <file>` runs the bench — appended as JSON lines
 * to the file named by `BENCH_JSON_ROWS`, with the machine facts at the time of the row.
 */
export class BenchReport {
  private readonly rows: ReportedRow[] = [];

  /**
   * @param bench short name of the benchmark, the same in every run (e.g. `notifier-drain`)
   * @param unit what the items are (`emails`, `events`, …)
   */
  constructor(
    readonly bench: string,
    readonly unit: string,
  ) {}

  /** Records a row (and writes it to the JSON rows file at once, so a later crash keeps it). Returns it for use as `vs`. */
  add(row: BenchRow, options: RowOptions = {}): BenchRow {
    const vs = options.vs;
    const checked = (options.goals ?? []).map((g) => ({ text: g.text, measured: g.measured(row, vs), met: g.check(row, vs) }));
    const reported: ReportedRow = {
      bench: this.bench,
      unit: this.unit,
      ...row,
      rate: rateOf(row),
      ratio: vs ? rateOf(row) / rateOf(vs) : null,
      vs: vs ? { ...vs, rate: rateOf(vs) } : null,
      goals: checked,
      met: checked.length === 0 ? null : checked.every((g) => g.met),
      machine: machineFacts(),
    };
    this.rows.push(reported);
    const file = process.env.BENCH_JSON_ROWS;
    if (file) appendFileSync(file, `${JSON.stringify(reported)}\n`);
    return row;
  }

  /** Prints the rows as a table, then one line per row with a goal: met, or MISSED with its ratio. */
  print(title: string): void {
    const unit = this.unit;
    const lines = [
      `| ${'row'.padEnd(56)} | ${unit.padStart(7)} | seconds | ${`${unit}/s`.padStart(9)} | vs compared | note`,
      `|${'-'.repeat(58)}|---------|---------|-----------|-------------|-----`,
    ];
    const compared = new Set(this.rows.flatMap((r) => (r.vs ? [r.vs.name] : [])));
    for (const r of this.rows) {
      const ratio = r.ratio !== null ? percent(r.ratio) : compared.has(r.name) ? 'baseline' : '';
      lines.push(
        `| ${r.name.padEnd(56)} | ${String(r.items).padStart(7)} | ${r.seconds.toFixed(2).padStart(7)} | ${r.rate.toFixed(0).padStart(9)} | ${ratio.padStart(11)} | ${notes(r)}`,
      );
    }
    const verdicts = this.rows.filter((r) => r.met !== null).map(verdict);
    const load = machineFacts();
    console.log(
      `\n${title}\n${lines.join('\n')}\n\n${verdicts.join('\n')}${verdicts.length ? '\n' : ''}` +
        `(${load.cores} cores, load average ${load.loadAverage.join(' ')}, node ${load.node})\n`,
    );
  }

  /** True when every row with goals met them all. */
  get allMet(): boolean {
    return this.rows.every((r) => r.met !== false);
  }
}

/** The row's note and its extra figures, for the table's last column. */
function notes(row: BenchRow): string {
  return [...Object.entries(row.figures ?? {}).map(([k, v]) => `${k} ${v}`), ...(row.note ? [row.note] : [])].join('; ');
}

/** One sentence per row with goals: met or MISSED, what each goal asks and what the row did. */
export function verdict(row: ReportedRow): string {
  const words = row.goals.map((g) => `${g.measured} (goal ${g.text}: ${g.met ? 'met' : 'MISSED'})`).join('; ');
  return `${row.met ? 'goal met' : 'GOAL MISSED'}: ${row.name} — ${words}`;
}
