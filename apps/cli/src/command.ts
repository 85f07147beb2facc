import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usage } from './cli-error.js';
import { createOutput, type Output } from './output.js';

/** Flags every command takes. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  server: { type: 'string', short: 's' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags and positionals of one command, plus its output. */
export interface Parsed<O extends Options> {
  readonly values: {
    [K in keyof (O & typeof COMMON_OPTIONS)]?: (O & typeof COMMON_OPTIONS)[K] extends { type: 'boolean' } ? boolean : string;
  };
  readonly positionals: string[];
  readonly out: Output;
  readonly server: string | undefined;
}

/** parseArgs with the common flags; an unknown flag or a missing value is a usage error. */
export function parse<O extends Options>(argv: readonly string[], options: O): Parsed<O> {
  let result;
  try {
    result = parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals: true });
  } catch (err) {
    throw usage((err as Error).message);
  }
  const values = result.values as Parsed<O>['values'] & { json?: boolean; server?: string };
  return { values, positionals: result.positionals, out: createOutput({ json: values.json ?? false }), server: values.server };
}
