import { InvalidArgumentError, type Command } from 'commander';
import { readEnvFile } from './env-file.js';
import { createOutput, type Output } from './output.js';

/** The flags of a command that talks to NATS: `--json`, `--server` and `--env-file`. */
export interface ConnectingOptions {
  readonly json?: boolean;
  readonly server?: string;
  readonly envFile?: string;
}

/** Adds `--json` (machine-readable output on stdout). */
export function withJson(command: Command): Command {
  return command.option('--json', 'print one JSON document on stdout instead of tables');
}

/** Adds `--json`, `-s, --server <url>` and `--env-file <file>`, which every command that connects to NATS takes. */
export function connecting(command: Command): Command {
  return withJson(command)
    .option('-s, --server <url>', 'NATS server URL, e.g. nats://host:4222 (default: NATS_URL)')
    .option('--env-file <file>', 'read NATS_* settings from this file first, e.g. a <role>.env of idm nats-config');
}

/**
 * The environment a command connects with: the process's, then `--env-file`'s lines over it,
 * then `--server` as `NATS_URL`.
 */
export function connectionEnv(options: ConnectingOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...(options.envFile !== undefined ? readEnvFile(options.envFile) : {}),
    ...(options.server !== undefined ? { NATS_URL: options.server } : {}),
  };
}

/** The output for a command's `--json` flag. */
export function outputOf(options: { readonly json?: boolean }): Output {
  return createOutput({ json: options.json ?? false });
}

/** A commander argument parser for `--limit N` and the like: a whole number ≥ 1, said in words otherwise. */
export function positiveInteger(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number ≥ 1, got ${JSON.stringify(raw)}`);
  return n;
}

/** A commander argument parser for `--since TIME`: an ISO-8601 time. */
export function isoTime(raw: string): Date {
  const at = new Date(raw);
  if (Number.isNaN(at.getTime()))
    throw new InvalidArgumentError(`expected an ISO-8601 time such as 2026-01-31T09:00:00Z, got ${JSON.stringify(raw)}`);
  return at;
}

/** A commander argument parser for repeatable options: collects every value. */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
