import { eventSubject, type IdmEvent } from '@idm/contracts';

/** One message of a {@link memoryLog}: shaped like `@idm/messaging`'s `StreamEntry`. */
export type MemoryLogEntry =
  | { readonly seq: number; readonly subject: string; readonly event: IdmEvent; readonly error?: undefined }
  | { readonly seq: number; readonly subject: string; readonly event?: undefined; readonly error: Error };

/** Where to start reading and how much to hand over at once, as for `readStreamInBatches`. */
export interface MemoryLogReadOptions {
  readonly fromSeq?: number | undefined;
  /** Messages whose event `time` is at or after this (the log has no stored time of its own). */
  readonly since?: Date | undefined;
  readonly batchSize?: number | undefined;
}

/** A log held in memory: its entries, the last sequence, and a reader. */
export interface MemoryLog {
  readonly entries: readonly MemoryLogEntry[];
  readonly lastSeq: number;
  /**
   * Reads the log like `readStreamInBatches` reads a stream (in order, in batches, the next batch
   * only once `onBatch` settles), so it can stand in for a replay's `StreamBatchReader` in specs
   * that are about what the replay writes rather than about JetStream.
   */
  read(
    options: MemoryLogReadOptions,
    onBatch: (batch: readonly MemoryLogEntry[], progress: { read: number; pending: number; seq: number }) => Promise<void>,
  ): Promise<{ read: number; lastSeq: number }>;
}

/**
 * A log of `items` at sequences 1, 2, …: an event is a decoded message, an `Error` a message that
 * could not be decoded.
 */
export function memoryLog(items: readonly (IdmEvent | Error)[]): MemoryLog {
  const entries: MemoryLogEntry[] = items.map((item, i) =>
    item instanceof Error
      ? { seq: i + 1, subject: 'idm.undecodable', error: item }
      : { seq: i + 1, subject: eventSubject(item), event: item },
  );
  return {
    entries,
    lastSeq: entries.length,
    async read(options, onBatch) {
      const since = options.since?.getTime();
      const wanted = entries.filter(
        (e) => e.seq >= (options.fromSeq ?? 1) && (since === undefined || (e.event !== undefined && Date.parse(e.event.time) >= since)),
      );
      const size = options.batchSize ?? 1000;
      for (let i = 0; i < wanted.length; i += size) {
        const batch = wanted.slice(i, i + size);
        await onBatch(batch, { read: i + batch.length, pending: wanted.length - i - batch.length, seq: batch.at(-1)!.seq });
      }
      return { read: wanted.length, lastSeq: wanted.at(-1)?.seq ?? 0 };
    },
  };
}
