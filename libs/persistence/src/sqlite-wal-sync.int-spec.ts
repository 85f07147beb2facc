import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fdatasync, fstatSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import { eventLoopTurns, tempDir } from '@idm/testing';
import { openDatabase, Outbox, OutboxRelay, persistenceEntities, persistenceMigrations, runInTransaction } from './index.js';
import { counterValue, increment, SpecCounter, SpecCounter1732300000001 } from './spec-support/counter.fixture.js';
import { SqliteWalSyncError } from './sqlite-wal-sync.js';
import { fileURLToPath } from 'node:url';

interface RawConnection {
  prepare(sql: string): { get(...params: unknown[]): unknown };
  pragma(source: string): unknown;
  close(): void;
}
/** A plain better-sqlite3 connection: what another process would see of the file. */
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options?: { readonly?: boolean }) => RawConnection;

/** A WAL flush the test completes or fails by hand; `calls` lists every flush started. */
class HeldSync {
  readonly calls: Array<{ fd: number; release: () => void; fail: (error: Error) => void }> = [];
  /** While false, flushes really run (`fdatasync`) and complete on their own. */
  holding = true;
  readonly sync = (fd: number): Promise<void> => {
    if (!this.holding) return promisify(fdatasync)(fd);
    return new Promise((release, fail) => this.calls.push({ fd, release: () => release(), fail }));
  };
  private readonly done = new Set<HeldSync['calls'][number]>();
  /** Completes `call`, or fails it with `error`. */
  settle(call: HeldSync['calls'][number], error?: Error): void {
    this.done.add(call);
    if (error) call.fail(error);
    else call.release();
  }
}

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { readonly settled: () => boolean; readonly promise: Promise<T> } {
  let settled = false;
  const tracked = promise.finally(() => (settled = true));
  tracked.catch(() => undefined);
  return { settled: () => settled, promise: tracked };
}

async function withSqlite(
  syncWalFile: HeldSync['sync'] | undefined,
  body: (ds: DataSource, file: string, reopen: () => Promise<DataSource>) => Promise<void>,
  onLostDurability: (error: SqliteWalSyncError) => void = (error) => assert.fail(`unexpected lost durability: ${error.message}`),
): Promise<void> {
  const dataDir = tempDir('idm-wal-sync');
  const opened: DataSource[] = [];
  const open = async (sync = syncWalFile): Promise<DataSource> => {
    const ds = await openDatabase({
      app: 'wal-spec',
      dataDir,
      entities: [...persistenceEntities, SpecCounter],
      migrations: [...persistenceMigrations, SpecCounter1732300000001],
      syncWalFile: sync,
      onLostDurability,
    });
    opened.push(ds);
    return ds;
  };
  try {
    const ds = await open();
    await body(ds, join(dataDir, 'wal-spec.sqlite'), () => open(undefined));
  } finally {
    for (const ds of opened) if (ds.isInitialized) await ds.destroy().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Counter value as another connection (another process) sees the file: committed, flushed or not. */
function committedValue(file: string, id: string): number {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare('SELECT value FROM spec_counter WHERE id = ?').get(id) as { value: number } | undefined;
    return row?.value ?? 0;
  } finally {
    db.close();
  }
}

describe('SQLite commits: fsync of the WAL off the event loop', () => {
  test('the connection runs synchronous = NORMAL, and committed data is there after reopen', async () => {
    await withSqlite(undefined, async (ds, _file, reopen) => {
      assert.deepEqual(await ds.query('PRAGMA synchronous'), [{ synchronous: 1 }]);
      await runInTransaction(ds, (m) => increment(m, 'kept'));
      await ds.destroy();
      const again = await reopen();
      assert.equal(await counterValue(again.manager, 'kept'), 1);
    });
  });

  test('a transaction resolves only after a flush started after its commit; the gate lets the next commit meanwhile; one flush covers several commits', async () => {
    const held = new HeldSync();
    await withSqlite(held.sync, async (ds, file) => {
      const first = track(runInTransaction(ds, (m) => increment(m, 'a')));
      await eventLoopTurns();
      assert.equal(committedValue(file, 'a'), 1, 'committed');
      assert.equal(held.calls.length, 1, 'one flush started');
      assert.equal(first.settled(), false, 'not resolved before its flush completes');

      // The gate is free during the flush: two more transactions commit, and wait for a flush
      // that starts after theirs (the one in flight began before they committed).
      const second = track(runInTransaction(ds, (m) => increment(m, 'b')));
      const third = track(runInTransaction(ds, (m) => increment(m, 'c')));
      await eventLoopTurns();
      assert.equal(committedValue(file, 'b'), 1);
      assert.equal(committedValue(file, 'c'), 1);
      assert.equal(held.calls.length, 1, 'no second flush while one is in flight');

      held.settle(held.calls[0]!);
      await first.promise;
      await eventLoopTurns();
      assert.equal(second.settled() || third.settled(), false, 'the first flush started before they committed');
      assert.equal(held.calls.length, 2, 'one flush for both');
      held.settle(held.calls[1]!);
      await Promise.all([second.promise, third.promise]);
      assert.equal(held.calls.length, 2);
    });
  });

  test('the outbox: a unit does not resolve and the relay publishes nothing until the flush covering the rows completes', async () => {
    const held = new HeldSync();
    await withSqlite(held.sync, async (ds) => {
      const published: string[] = [];
      const relay = new OutboxRelay(ds, { publish: async (e: { id: string }) => void published.push(e.id) });
      const unit = track(
        new Outbox(ds).once({ consumer: 'c', eventId: 'evt-1', streamSeq: 1 }, async ({ manager, emit }) => {
          await increment(manager, 'u1');
          emit([{ id: 'out-1', type: 'spec.counted', subject: 'u1' }]);
        }),
      );
      await eventLoopTurns();
      assert.equal(held.calls.length, 1);
      const drained = track(relay.drainOnce());
      await eventLoopTurns();
      assert.deepEqual(published, [], 'a row whose commit is not on disk is not published');
      assert.equal(unit.settled(), false, 'the unit (what a consumer acks after) waits for the flush');
      assert.equal(drained.settled(), false);

      held.holding = false; // later flushes run for real
      held.settle(held.calls[0]!);
      assert.deepEqual(await unit.promise, { duplicate: false, result: undefined });
      assert.equal(await drained.promise, 1);
      assert.deepEqual(published, ['out-1']);
    });
  });

  test('a failed flush (EIO) fails the caller and every later transaction (before it runs) with SqliteWalSyncError, and is reported once; the data stays committed for a restart', async () => {
    const held = new HeldSync();
    const reported: SqliteWalSyncError[] = [];
    await withSqlite(
      held.sync,
      async (ds, file, reopen) => {
        const first = track(runInTransaction(ds, (m) => increment(m, 'a')));
        await eventLoopTurns();
        held.settle(held.calls[0]!, Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
        await assert.rejects(first.promise, (error: unknown) => {
          assert.ok(error instanceof SqliteWalSyncError);
          assert.equal(error.code, 'IDM_SQLITE_WAL_SYNC_FAILED');
          assert.match(error.message, /fsync of the SQLite WAL .*wal-spec\.sqlite-wal failed \(EIO\)/);
          return true;
        });
        // Sticky: a later flush succeeding would not prove the lost pages reached the disk.
        await assert.rejects(
          runInTransaction(ds, (m) => increment(m, 'b')),
          SqliteWalSyncError,
        );
        await assert.rejects(ds.query('SELECT 1'), SqliteWalSyncError);
        assert.equal(held.calls.length, 1, 'no further flush is attempted');
        assert.equal(committedValue(file, 'a'), 1, 'committed but not acknowledged: a redelivery finds its inbox row');

        assert.equal(reported.length, 1, 'the lost durability is reported once, not per refused call');
        assert.ok(reported[0] instanceof SqliteWalSyncError);

        await ds.destroy();
        const again = await reopen();
        assert.equal(await counterValue(again.manager, 'a'), 1);
        assert.equal(await counterValue(again.manager, 'b'), 0, 'refused before it ran');
      },
      (error) => reported.push(error),
    );
  });

  test('by default a failed flush ends the process with exit code 1 and one fatal line naming the code, before the caller is answered', () => {
    const dataDir = tempDir('idm-lost-durability');
    try {
      const child = spawnSync(
        process.execPath,
        [fileURLToPath(new URL('./spec-support/lost-durability.child.js', import.meta.url)), dataDir],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(child.stdout, '', "the commit's caller was never answered");
      assert.equal(child.status, 1, `exit code (stderr: ${child.stderr})`);
      const fatal = JSON.parse(child.stderr.trim().split('\n').at(-1)!) as { level: string; code: string; msg: string };
      assert.equal(fatal.level, 'fatal');
      assert.equal(fatal.code, 'IDM_SQLITE_WAL_SYNC_FAILED');
      assert.match(fatal.msg, /lost-durability\.sqlite-wal failed \(EIO\).*; exiting$/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('the kept descriptor still names the WAL file after a TRUNCATE checkpoint empties it', async () => {
    const held = new HeldSync();
    held.holding = false;
    const fds: number[] = [];
    const sync = (fd: number): Promise<void> => {
      fds.push(fd);
      return held.sync(fd);
    };
    await withSqlite(sync, async (ds, file) => {
      await runInTransaction(ds, (m) => increment(m, 'a'));
      const other = new Database(file);
      try {
        other.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        other.close();
      }
      assert.equal(statSync(`${file}-wal`).size, 0, 'emptied');
      await runInTransaction(ds, (m) => increment(m, 'a'));
      const fd = fds.at(-1)!;
      assert.equal(fstatSync(fd).ino, statSync(`${file}-wal`).ino);
      assert.equal(fstatSync(fd).size, statSync(`${file}-wal`).size);
      assert.ok(fstatSync(fd).size > 0);
    });
  });
});
