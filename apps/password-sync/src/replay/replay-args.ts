import { parseArgs } from 'node:util';

/** Arguments of an app's `replay` entry point. */
export interface ReplayArgs {
  readonly fromSeq?: number;
  readonly since?: Date;
  readonly dryRun: boolean;
  readonly batchSize?: number;
  /** Postgres schema override (tests, benchmarks). */
  readonly schema?: string;
}

/** A replay argument that cannot be used; the message says which and why. */
export class ReplayArgsError extends Error {
  override readonly name = 'ReplayArgsError';
  readonly code = 'IDM_REPLAY_ARGS_INVALID';
}

/**
 * Parses `[--from-seq N | --since TIME] [--dry-run] [--batch-size N] [--schema S]`.
 * @throws ReplayArgsError for an unknown flag, a bad number or time, or both starts at once.
 */
export function parseReplayArgs(argv: readonly string[]): ReplayArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { 'from-seq': { type: 'string' }, since: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'batch-size': { type: 'string' }, schema: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ReplayArgsError((err as Error).message);
  }
  if (values['from-seq'] !== undefined && values.since !== undefined) throw new ReplayArgsError('give --from-seq or --since, not both');
  const positive = (flag: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ReplayArgsError(`${flag} must be a positive integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  let since: Date | undefined;
  if (values.since !== undefined) {
    since = new Date(values.since);
    if (Number.isNaN(since.getTime())) throw new ReplayArgsError(`--since must be an ISO time, got ${JSON.stringify(values.since)}`);
  }
  const fromSeq = positive('--from-seq', values['from-seq']);
  const batchSize = positive('--batch-size', values['batch-size']);
  return {
    dryRun: values['dry-run'] ?? false,
    ...(fromSeq !== undefined ? { fromSeq } : {}),
    ...(since ? { since } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(values.schema ? { schema: values.schema } : {}),
  };
}
