/**
 * The JSON lines a replay writes on stdout, one object per line; `idm replay` renders them as a
 * progress bar and a summary. Kept identical in every app (apps share no code but libs).
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
