// The thread behind `SqliteCheckpointer` (see sqlite-checkpointer.ts): a connection of its own to
// the app's SQLite file that copies the WAL back into the database every few milliseconds.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

/** What the main thread passes as `workerData`. */
export interface CheckpointerWorkerData {
  readonly file: string;
  readonly intervalMs: number;
  /** Empty the WAL file (TRUNCATE) once no frame was added for this long and all are copied back. */
  readonly idleTruncateMs: number;
}

/** A row of `PRAGMA wal_checkpoint`: busy (1 = could not finish), frames in the WAL, frames copied back. */
interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

interface Connection {
  pragma(source: string): unknown;
  close(): void;
}

const { file, intervalMs, idleTruncateMs } = workerData as CheckpointerWorkerData;
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  file: string,
  options: { fileMustExist: boolean; timeout: number },
) => Connection;
// No busy timeout (better-sqlite3's default is 5 s): PASSIVE never waits anyway, and a TRUNCATE
// that finds a lock taken must give up at once rather than hold the write lock while it waits.
const db = new Database(file, { fileMustExist: true, timeout: 0 });
// A checkpoint fsyncs the WAL before copying it and the database file after, as the app's own would.
db.pragma('synchronous = FULL');

// PASSIVE only while the app writes: it never waits for the app's writer nor makes the writer wait
// (FULL and RESTART would, and the writer's busy handler sleeps on the app's event loop, the very
// stall avoided here). TRUNCATE only once the app has written nothing for `idleTruncateMs`: it
// takes the write lock for the moment of cutting the file, and gives up at once (busy = 1) if the
// app holds a lock or reads an older snapshot; it tries again at the next tick.
let lastFrames = -1;
let idleSince: number | undefined;
const timer = setInterval(() => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[];
    const now = performance.now();
    // Frames in the WAL, all copied back, and no more than last time: nothing was written since.
    const settled = result !== undefined && result.log > 0 && result.checkpointed === result.log && result.log === lastFrames;
    lastFrames = result?.log ?? -1;
    idleSince = settled ? (idleSince ?? now) : undefined;
    if (idleSince !== undefined && now - idleSince >= idleTruncateMs) {
      const [truncated] = db.pragma('wal_checkpoint(TRUNCATE)') as CheckpointResult[];
      if (truncated?.busy === 0) idleSince = undefined;
    }
  } catch (error) {
    parentPort?.postMessage({ failed: error instanceof Error ? error.message : String(error) });
  }
}, intervalMs);

parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
