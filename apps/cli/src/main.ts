#!/usr/bin/env node
import { CommanderError } from 'commander';
import { OperationsError } from '@idm/operations';
import { CliError, fromOperationsError } from './cli-error.js';
import { buildProgram } from './program.js';

/** Commander's ways of ending that are not failures: help or the version was asked for. */
const SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/** Any failure as the one-line CliError the user sees; commander's parse errors are usage errors. */
function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof OperationsError) return fromOperationsError(err);
  if (err instanceof CommanderError) return new CliError(err.message.replace(/^error: /, ''), 'IDM_CLI_USAGE', { cause: err });
  return new CliError(err instanceof Error ? err.message : String(err), 'IDM_CLI_FAILED');
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError && SUCCESS.has(err.code)) return 0;
    // `idm` or `idm dlq` alone: commander printed the help on stderr.
    if (err instanceof CommanderError && err.code === 'commander.help') return 2;
    const cli = asCliError(err);
    process.stderr.write(`idm: ${cli.message}\n`);
    return cli.exitCode;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
