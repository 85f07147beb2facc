import { styleText } from 'node:util';

/** How results are written: human tables with optional colour, or JSON for scripts. */
export interface Output {
  readonly json: boolean;
  readonly colour: boolean;
  /** Writes a value as JSON (one document), or nothing when not in JSON mode. */
  data(value: unknown): void;
  line(text?: string): void;
  heading(text: string): void;
  table(rows: ReadonlyArray<Record<string, unknown>>, columns?: readonly string[]): void;
  style(format: 'green' | 'red' | 'yellow' | 'dim' | 'bold' | 'cyan', text: string): string;
}

/** Colour only on a terminal and never with NO_COLOR set. */
export function createOutput(options: { json: boolean; stream?: NodeJS.WriteStream }): Output {
  const stream = options.stream ?? process.stdout;
  const colour = !options.json && stream.isTTY === true && !process.env.NO_COLOR;
  const style = (format: Parameters<Output['style']>[0], text: string): string => (colour ? styleText(format, text) : text);
  return {
    json: options.json,
    colour,
    style,
    data: (value) => {
      if (options.json) stream.write(JSON.stringify(value, null, 2) + '\n');
    },
    line: (text = '') => {
      if (!options.json) stream.write(text + '\n');
    },
    heading: (text) => {
      if (!options.json) stream.write(style('bold', text) + '\n');
    },
    table: (rows, columns) => {
      if (options.json) return;
      if (rows.length === 0) {
        stream.write(style('dim', '  (none)') + '\n');
        return;
      }
      const cols = columns ?? Object.keys(rows[0]!);
      const cell = (v: unknown): string => (v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));
      const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
      const fmt = (values: string[]): string =>
        '  ' +
        values
          .map((v, i) => v.padEnd(widths[i]!))
          .join('  ')
          .trimEnd();
      stream.write(style('dim', fmt(cols.map((c) => c.toUpperCase()))) + '\n');
      for (const r of rows) stream.write(fmt(cols.map((c) => cell(r[c]))) + '\n');
    },
  };
}
