import { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';
import type { CheckpointerWorkerData } from './sqlite-checkpointer.worker.js';

/** How often the checkpointer thread copies the WAL back (a PASSIVE checkpoint with nothing to copy costs next to nothing). */
const CHECKPOINT_INTERVAL_MS = 100;
/** SQLite's own default, restored on the app's connection if the checkpointer thread dies. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/**
 * `journal_size_limit` of the app's connection: when its next write starts the WAL over (every
 * frame copied back), the commit cuts the file down to this size. Set above what a steady 1,000
 * events/s writes between two checkpoints (up to 12 MB seen on a loaded machine), so the file is
 * cut after a burst, not at every restart: a commit that regrows the file makes its fsync carry a
 * metadata update too.
 */
const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;
/** No new WAL frame for this long, all copied back: the thread empties the WAL file (TRUNCATE). */
const IDLE_TRUNCATE_MS = 1_000;

interface Connection {
  pragma(source: string): unknown;
}

/**
 * Why this exists: better-sqlite3 is synchronous, and SQLite's automatic checkpoint runs inside
 * the COMMIT that pushes the WAL past 1,000 pages: it copies those pages into the database file
 * and fsyncs it, on the app's event loop. At 1,000 events/s the notifier wrote ~12 KB of WAL per
 * event, so that happened about three times a second, each time holding every delivery, reply and
 * publish of the process (measured with the bench probe: 4–12 ms each on a busy machine, some
 * over 100 ms). Here the app's connection never checkpoints (`wal_autocheckpoint = 0`); a worker
 * thread with a connection of its own runs `wal_checkpoint(PASSIVE)` every 100 ms instead.
 * Durability is unchanged: a commit is durable once its WAL frames are fsynced (by
 * `SqliteWalSync`, before its caller resolves), whoever copies them to the database file later;
 * a checkpoint syncs the WAL before copying and the database file after.
 *
 * SQLite never shrinks a WAL file by itself: a burst (20,000 events in a few seconds wrote 28 MB)
 * left it at its largest for good. The app's connection has `journal_size_limit` =
 * {@link WAL_SIZE_LIMIT_BYTES}, so a busy app cuts it back at its next WAL restart; an idle one
 * (nothing written for {@link IDLE_TRUNCATE_MS}, everything copied back) gets a
 * `wal_checkpoint(TRUNCATE)` from the thread, which empties the file.
 */
export class SqliteCheckpointer {
  private readonly exited: Promise<void>;
  private stopping = false;

  private constructor(
    private readonly worker: Worker,
    connection: Connection,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    const fallBack = (): void => {
      // The thread is gone: let the app's connection checkpoint again, or the WAL grows without bound.
      if (!this.stopping) connection.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    };
    worker.once('error', fallBack);
    worker.once('exit', fallBack);
    worker.unref();
  }

  /** Moves `dataSource`'s checkpoints (an initialised better-sqlite3 DataSource in WAL mode) onto a thread of their own. */
  static start(dataSource: DataSource): SqliteCheckpointer {
    const connection = (dataSource.driver as unknown as { databaseConnection: Connection }).databaseConnection;
    const workerData: CheckpointerWorkerData = {
      file: String(dataSource.options.database),
      intervalMs: CHECKPOINT_INTERVAL_MS,
      idleTruncateMs: IDLE_TRUNCATE_MS,
    };
    const worker = new Worker(new URL('./sqlite-checkpointer.worker.js', import.meta.url), { workerData });
    connection.pragma('wal_autocheckpoint = 0');
    // Set here, not on the thread's connection: SQLite applies the limit in the commit that starts the WAL over.
    connection.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    return new SqliteCheckpointer(worker, connection);
  }

  /** Stops the thread and closes its connection; the app's connection, closed last, checkpoints what is left. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.worker.ref(); // an unref'd thread would let the process exit before 'exit' arrives
    this.worker.postMessage('stop');
    await this.exited;
  }
}
