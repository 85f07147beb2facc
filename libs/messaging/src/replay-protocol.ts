// The command-line protocol of every app's `replay` entry point: its arguments, and the JSON
// lines it prints, which `idm replay` renders as a progress bar. One copy here, for all apps.
import { parseArgs } from 'node:util';
import type { NatsConnection } from '@nats-io/nats-core';

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

/**
 * The JSON lines a replay writes on stdout, one object per line; `idm replay` renders them as a
 * progress bar and a summary.
 */
export type ReplayLine =
  | { readonly kind: 'start'; readonly app: string; readonly stream: string; readonly fromSeq: number | null; readonly since: string | null; readonly dryRun: boolean }
  | { readonly kind: 'progress'; readonly read: number; readonly pending: number; readonly seq: number; readonly eventsPerSecond: number }
  | {
      readonly kind: 'summary';
      readonly app: string;
      readonly read: number;
      readonly applied: number;
      readonly undecodable: number;
      readonly lastSeq: number;
      readonly elapsedMs: number;
      readonly eventsPerSecond: number;
      readonly dryRun: boolean;
      /** Rows of each projection table after the replay (before it, for a dry run). */
      readonly rows: Readonly<Record<string, number>>;
    }
  | { readonly kind: 'error'; readonly message: string };

/** Where replay lines go; the replay main writes them to stdout, specs collect them. */
export type ReplaySink = (line: ReplayLine) => void;

/** Writes each line as JSON on stdout. */
export const stdoutSink: ReplaySink = (line) => {
  process.stdout.write(JSON.stringify(line) + '\n');
};

/** Events per second over `elapsedMs`, rounded. */
export function rate(events: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : Math.round((events * 1000) / elapsedMs);
}

/**
 * Core-NATS subjects a running replay announces its lines on, `idm.replay.progress.<app>`
 * (outside the stream's subjects: never stored). The console shows them while a replay runs.
 */
export const REPLAY_PROGRESS_PREFIX = 'idm.replay.progress';

/** The progress subject of one app's replay. */
export function replayProgressSubject(app: string): string {
  return `${REPLAY_PROGRESS_PREFIX}.${app}`;
}

/**
 * Publishes each line on {@link replayProgressSubject} (fire and forget: nobody listening, or a
 * permission refusal, never slows or fails the replay).
 */
export function natsProgressSink(nc: NatsConnection, app: string): ReplaySink {
  const subject = replayProgressSubject(app);
  return (line) => {
    try {
      if (!nc.isClosed()) nc.publish(subject, JSON.stringify(line));
    } catch {
      // best effort: the stdout lines are the record
    }
  };
}

/** One sink writing to several. */
export function teeSink(...sinks: readonly ReplaySink[]): ReplaySink {
  return (line) => {
    for (const sink of sinks) sink(line);
  };
}
