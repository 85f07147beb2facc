import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { IdmEvent } from '@idm/contracts';
import { rate, type ReplaySink } from './replay-protocol.js';
import {
  readStreamInBatches,
  type StreamBatchOptions,
  type StreamBatchProgress,
  type StreamBatchResult,
  type StreamEntry,
} from './stream-batches.js';

/**
 * What an app brings to a replay: how events map to keys, how one key's state is loaded, evolved
 * and written. `S` is whatever the app keeps per key while replaying (its state, plus what it
 * needs to remember about the stored row to write only the difference). Everything else — reading
 * the log in batches, loading each key once, counting, progress and summary lines — is
 * {@link replayProjection}'s.
 */
export interface Projection<S> {
  /** The app name in the start and summary lines (`idm replay <app>`). */
  readonly app: string;
  /** The key of the state `event` changes, or undefined when it changes nothing in this projection. */
  keyOf(event: IdmEvent): string | undefined;
  /**
   * Called with every decoded event, in stream order, before it is evolved: for facts that span
   * keys (the notifier remembers the template context of causing events).
   */
  observe?(event: IdmEvent): void;
  /**
   * The states of keys met for the first time in this replay; must return one for each key.
   * `fromNothing`: a full replay (no `fromSeq` / `since`): the stored state is not the starting
   * point (the app may still read what it must keep, such as sealed secrets).
   */
  load(keys: readonly string[], fromNothing: boolean): Promise<ReadonlyMap<string, S>>;
  /** The pure evolve: the state after `event`, or the same object when the event changes nothing. */
  evolve(state: S, event: IdmEvent, seq: number): S;
  /**
   * Writes the states changed by one batch and the projection checkpoint `seq`, in one
   * transaction, so a crash leaves either both or neither. Never called on a dry run.
   */
  write(changed: ReadonlyMap<string, S>, seq: number): Promise<void>;
  /** Before a full replay that writes: forget what a full replay rebuilds (at least the checkpoint). */
  reset(): Promise<void>;
  /** Rows per table for the summary: counted in the database, or (dry run) from the replayed states. */
  rows(states: ReadonlyMap<string, S>, dryRun: boolean): Promise<Readonly<Record<string, number>>>;
}

/** What to replay. With neither `fromSeq` nor `since` the projection is rebuilt from the first event. */
export interface ReplayProjectionOptions {
  readonly stream: string;
  readonly fromSeq?: number | undefined;
  readonly since?: Date | undefined;
  /** Read and evolve, write nothing. */
  readonly dryRun?: boolean | undefined;
  /** Messages per batch, and so per transaction (default 5000). */
  readonly batchSize?: number | undefined;
}

/** Reads the log in batches; {@link streamBatchReader} over JetStream, or a list in specs. */
export type StreamBatchReader = (
  options: StreamBatchOptions,
  onBatch: (batch: readonly StreamEntry[], progress: StreamBatchProgress) => Promise<void>,
) => Promise<StreamBatchResult>;

/** Where a replay reads and reports. */
export interface ReplayProjectionPorts {
  readonly read: StreamBatchReader;
  readonly sink: ReplaySink;
}

/** What a replay did. */
export interface ReplayProjectionResult {
  readonly read: number;
  /** Events that changed a state. */
  readonly applied: number;
  readonly lastSeq: number;
}

/** {@link readStreamInBatches} on one connection, as a {@link StreamBatchReader}. */
export function streamBatchReader(js: JetStreamClient, jsm: JetStreamManager): StreamBatchReader {
  return (options, onBatch) => readStreamInBatches(js, jsm, options, onBatch);
}

/**
 * Rebuilds an app's projection from the log with its pure evolve function only: nothing is sent
 * and nothing is appended. Prints a `start` line; on a full replay that writes, calls `reset`;
 * then per batch loads the keys met for the first time, evolves every decoded event in stream
 * order, writes the changed states with the checkpoint and prints a `progress` line; last a
 * `summary` line. Undecodable messages are counted and skipped. Run it with the app stopped (see
 * `checkAppStopped`): the app and the replay would both write the tables.
 * @throws whatever reading, loading or writing throws; the batches written before stay written,
 * and the checkpoint says how far.
 */
export async function replayProjection<S>(
  projection: Projection<S>,
  ports: ReplayProjectionPorts,
  options: ReplayProjectionOptions,
): Promise<ReplayProjectionResult> {
  const { sink } = ports;
  const full = options.fromSeq === undefined && options.since === undefined;
  const dryRun = options.dryRun ?? false;
  sink({
    kind: 'start',
    app: projection.app,
    stream: options.stream,
    fromSeq: options.fromSeq ?? null,
    since: options.since?.toISOString() ?? null,
    dryRun,
  });
  if (full && !dryRun) await projection.reset();
  const states = new Map<string, S>();
  const started = Date.now();
  let applied = 0;
  let undecodable = 0;
  const result = await ports.read(
    { stream: options.stream, fromSeq: options.fromSeq, since: options.since, batchSize: options.batchSize ?? 5000 },
    async (batch, progress) => {
      await loadNewKeys(projection, batch, states, full);
      const changed = new Map<string, S>();
      for (const entry of batch) {
        if (!entry.event) {
          undecodable += 1;
          continue;
        }
        projection.observe?.(entry.event);
        const key = projection.keyOf(entry.event);
        if (key === undefined) continue;
        const state = states.get(key) as S;
        const next = projection.evolve(state, entry.event, entry.seq);
        if (next !== state) {
          states.set(key, next);
          changed.set(key, next);
          applied += 1;
        }
      }
      if (!dryRun) await projection.write(changed, progress.seq);
      sink({
        kind: 'progress',
        read: progress.read,
        pending: progress.pending,
        seq: progress.seq,
        eventsPerSecond: rate(progress.read, Date.now() - started),
      });
    },
  );
  const rows = await projection.rows(states, dryRun);
  const elapsedMs = Date.now() - started;
  sink({
    kind: 'summary',
    app: projection.app,
    read: result.read,
    applied,
    undecodable,
    lastSeq: result.lastSeq,
    elapsedMs,
    eventsPerSecond: rate(result.read, elapsedMs),
    dryRun,
    rows,
  });
  return { read: result.read, applied, lastSeq: result.lastSeq };
}

/** Loads, in one call per batch, the keys of the batch not seen before in this replay. */
async function loadNewKeys<S>(
  projection: Projection<S>,
  batch: readonly StreamEntry[],
  states: Map<string, S>,
  full: boolean,
): Promise<void> {
  const missing = new Set<string>();
  for (const entry of batch) {
    const key = entry.event ? projection.keyOf(entry.event) : undefined;
    if (key !== undefined && !states.has(key)) missing.add(key);
  }
  if (missing.size === 0) return;
  const loaded = await projection.load([...missing], full);
  for (const key of missing) {
    const state = loaded.get(key);
    if (state === undefined) throw new Error(`${projection.app} replay: load() returned no state for key ${JSON.stringify(key)}`);
    states.set(key, state);
  }
}
