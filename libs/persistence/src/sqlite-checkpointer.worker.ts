// The thread behind `SqliteCheckpointer` (see sqlite-checkpointer.ts): a connection of its own to
// the app's SQLite file that copies the WAL back into the database every few milliseconds.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

/** What the main thread passes as `workerData`. */
export interface CheckpointerWorkerData {
  readonly file: string;
  readonly intervalMs: number;
}

interface Connection {
  pragma(source: string): unknown;
  close(): void;
}

const { file, intervalMs } = workerData as CheckpointerWorkerData;
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options: { fileMustExist: boolean }) => Connection;
const db = new Database(file, { fileMustExist: true });
// A checkpoint fsyncs the WAL before copying it and the database file after, as the app's own would.
db.pragma('synchronous = FULL');

// PASSIVE only: it never waits for the app's writer nor makes the writer wait (FULL and RESTART
// would, and the writer's busy handler sleeps on the app's event loop, the very stall avoided here).
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
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
