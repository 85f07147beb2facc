// The command-line protocol of every app's `replay` entry point: its arguments, and the JSON
// lines it prints, which `idm replay` renders as a progress bar. One copy here, for all apps.
import { errorMessage } from '@idm/config';
import { parseArgs } from 'node:util';
import { errors, type NatsConnection } from '@nats-io/nats-core';

/** Arguments of an app's `replay` entry point. */
export interface ReplayArgs {
  readonly fromSeq?: number;
  readonly since?: Date;
  readonly dryRun: boolean;
  readonly batchSize?: number;
  /** Postgres schema; overrides `DATABASE_SCHEMA` (tests, benchmarks). */
  readonly schema?: string;
  /** Run even though the app still answers its status subject. */
  readonly force: boolean;
}

/** A replay argument that cannot be used; the message says which and why. */
export class ReplayArgsError extends Error {
  override readonly name = 'ReplayArgsError';
  readonly code = 'IDM_REPLAY_ARGS_INVALID';
}

/**
 * Parses `[--from-seq N | --since TIME] [--dry-run] [--batch-size N] [--schema S] [--force]`.
 * @throws ReplayArgsError for an unknown flag, a bad number or time, or both starts at once.
 */
export function parseReplayArgs(argv: readonly string[]): ReplayArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'from-seq': { type: 'string' },
        since: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'batch-size': { type: 'string' },
        schema: { type: 'string' },
        force: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ReplayArgsError(errorMessage(err));
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
    force: values.force ?? false,
    ...(fromSeq !== undefined ? { fromSeq } : {}),
    ...(since ? { since } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(values.schema ? { schema: values.schema } : {}),
  };
}

/** The app a replay is about still runs: its tables would be written by two writers at once. */
export class ReplayRefusedError extends Error {
  override readonly name = 'ReplayRefusedError';
  readonly code = 'IDM_REPLAY_APP_RUNNING';
}

/** How long {@link checkAppStopped} waits for an answer before taking silence for "stopped". */
const STATUS_PROBE_TIMEOUT_MS = 2_000;

/**
 * Asks the app's status subject once before a replay. No responder (or no answer within the
 * timeout) means the app is stopped. An answer means it still runs and would write its tables
 * while the replay rebuilds them, so the replay is refused unless `force` (then a warning goes to
 * stderr and `'running'` is returned). Any other failure (say, a permission violation) is refused
 * too, because the check could not be made; with `force` it counts as stopped.
 * @throws ReplayRefusedError naming the app and the subject.
 */
export async function checkAppStopped(
  nc: NatsConnection,
  options: { readonly app: string; readonly statusSubject: string; readonly force: boolean; readonly timeoutMs?: number },
): Promise<'stopped' | 'running'> {
  if (options.force) {
    const answered = await nc
      .request(options.statusSubject, '{}', { timeout: options.timeoutMs ?? STATUS_PROBE_TIMEOUT_MS })
      .then(() => true)
      .catch(() => false);
    if (answered) process.stderr.write(`${options.app} is still running: replaying anyway (--force)\n`);
    return answered ? 'running' : 'stopped';
  }
  try {
    await nc.request(options.statusSubject, '{}', { timeout: options.timeoutMs ?? STATUS_PROBE_TIMEOUT_MS });
  } catch (err) {
    if (isNoAnswer(err)) return 'stopped';
    throw new ReplayRefusedError(
      `cannot tell whether ${options.app} is stopped (request on ${options.statusSubject} failed: ${errorMessage(err)}); stop it and pass --force`,
      { cause: err },
    );
  }
  throw new ReplayRefusedError(
    `${options.app} is still running (it answered ${options.statusSubject}): stop every replica before replaying, or pass --force`,
  );
}

function isNoAnswer(err: unknown): boolean {
  if (err instanceof errors.TimeoutError || err instanceof errors.NoRespondersError) return true;
  if (err instanceof errors.RequestError) return err.isNoResponders() || err.cause instanceof errors.TimeoutError;
  return false;
}

/**
 * The JSON lines a replay writes on stdout, one object per line; `idm replay` renders them as a
 * progress bar and a summary.
 */
export type ReplayLine =
  | {
      readonly kind: 'start';
      readonly app: string;
      readonly stream: string;
      readonly fromSeq: number | null;
      readonly since: string | null;
      readonly dryRun: boolean;
    }
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
