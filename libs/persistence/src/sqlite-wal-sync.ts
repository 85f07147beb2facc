import { close, fdatasync, open } from 'node:fs';
import { promisify } from 'node:util';

const fdatasyncAsync = promisify(fdatasync);
const openAsync = promisify(open);
const closeAsync = promisify(close);

/** Flushes the WAL file behind `fd` to stable storage (default: `fdatasync` on libuv's thread pool). */
export type WalFileSync = (fd: number) => Promise<void>;

/**
 * The WAL could not be flushed: the commits since the last good flush are visible to this process
 * but may not be on disk. Sticky (code `IDM_SQLITE_WAL_SYNC_FAILED`): after a failed fsync Linux
 * marks the lost pages clean, so a later fsync that succeeds proves nothing about them; every
 * later commit and read of the DataSource fails with this error, and `openDatabase`'s default
 * {@link exitOnLostDurability} ends the process, because only a restart recovers (SQLite keeps the
 * WAL's last intact prefix and the unacknowledged messages come again).
 */
export class SqliteWalSyncError extends Error {
  override readonly name = 'SqliteWalSyncError';
  readonly code = 'IDM_SQLITE_WAL_SYNC_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Why this exists: with `synchronous = FULL` better-sqlite3 fsyncs the WAL inside every COMMIT,
 * on the event loop (2–5 ms each, about a third of password-sync's wall time). The app's
 * connection runs with `synchronous = NORMAL` instead (a COMMIT only write()s its frames; SQLite
 * keeps the file consistent after a power loss) and this class makes each commit durable before
 * its caller hears of it: {@link barrier} resolves once an `fdatasync` of the `-wal` file that
 * STARTED AFTER the call has completed, on the thread pool. One flush is in flight at a time and
 * covers every commit before it started, so commits made while it runs share the next one (group
 * commit at the OS level).
 *
 * The file descriptor is opened once and kept: the WAL file is truncated (journal_size_limit,
 * TRUNCATE checkpoints) but never replaced while the app's connection is open, so it stays the
 * same inode; and a kept descriptor sees every write-back error since it was opened, which one
 * opened per flush could miss if another descriptor (the checkpointer's) saw it first.
 */
export class SqliteWalSync {
  /** Commits (and autocommit statements) counted so far. */
  private written = 0;
  /** All commits up to this count are on disk. */
  private synced = 0;
  private running: Promise<void> | undefined;
  /** The flush that starts when {@link running} ends, shared by everyone who asked meanwhile. */
  private queued: Promise<void> | undefined;
  private failure: SqliteWalSyncError | undefined;
  private closed = false;

  private constructor(
    private readonly walPath: string,
    private readonly fd: number,
    private readonly sync: WalFileSync,
    private readonly onFailure: (error: SqliteWalSyncError) => void,
  ) {}

  /**
   * Opens `<database>-wal` (it exists once a WAL-mode connection has read the database).
   * `onFailure` is called once, with the sticky error, when the first flush fails; a throw from
   * it is ignored (the callers of the barrier still get the error).
   */
  static async open(
    databaseFile: string,
    sync: WalFileSync = fdatasyncAsync,
    onFailure: (error: SqliteWalSyncError) => void = () => undefined,
  ): Promise<SqliteWalSync> {
    const walPath = `${databaseFile}-wal`;
    return new SqliteWalSync(walPath, await openAsync(walPath, 'r'), sync, onFailure);
  }

  /** Throws the {@link SqliteWalSyncError} of a failed flush, if any: no new commit after one. */
  assertHealthy(): void {
    if (this.failure) throw this.failure;
  }

  /** Counts a commit that just returned; pass the result to {@link barrier}. */
  committed(): number {
    return ++this.written;
  }

  /**
   * Resolves when everything committed up to `upTo` (default: everything committed so far) is on
   * disk; at once when it already is. Rejects with {@link SqliteWalSyncError} when a flush failed.
   */
  async barrier(upTo: number = this.written): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.synced >= upTo) return;
      if (!this.running) {
        this.running = this.flush();
        await this.running;
        continue;
      }
      // The running flush may have started before the commit `upTo`: wait for the next one.
      this.queued ??= this.running.then(
        () => undefined,
        () => undefined,
      );
      await this.queued;
    }
  }

  /** Closes the descriptor once the flush in flight (if any) is done. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.running?.catch(() => undefined);
    await closeAsync(this.fd);
  }

  private async flush(): Promise<void> {
    const upTo = this.written;
    this.queued = undefined;
    try {
      await this.sync(this.fd);
      this.synced = Math.max(this.synced, upTo);
    } catch (error) {
      if (!this.failure) {
        this.failure = new SqliteWalSyncError(
          `fsync of the SQLite WAL ${this.walPath} failed (${(error as { code?: string }).code ?? String(error)}): ` +
            `commits since the last good fsync may not be on disk; nothing more is acknowledged, restart the app`,
          { cause: error },
        );
        try {
          this.onFailure(this.failure);
        } catch {
          // The listener is told, not asked: the callers below still get the error.
        }
      }
      throw this.failure;
    } finally {
      this.running = undefined;
    }
  }
}

/**
 * The default reaction to a failed WAL flush, as PostgreSQL PANICs on a failed fsync: writes the
 * error to stderr (synchronous on Linux pipes and files, so the line is not lost) and ends the
 * process with exit code 1 at once, without a graceful shutdown (a shutdown would checkpoint
 * pages whose flush failed into the database file). Nothing is lost by exiting: no commit after
 * the last good flush was acknowledged; the supervisor (Kubernetes, compose, systemd) restarts
 * the app, SQLite recovers from the WAL and the unacknowledged messages come again. If the disk
 * still fails, the restarts fail visibly (CrashLoopBackOff) instead of a live process that
 * quietly refuses all work.
 */
export function exitOnLostDurability(error: SqliteWalSyncError): never {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', time: new Date().toISOString(), code: error.code, msg: `${error.message}; exiting` })}\n`,
  );
  process.exit(1);
}
