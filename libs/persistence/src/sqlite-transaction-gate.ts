import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { SqliteWalSync } from './sqlite-wal-sync.js';

/**
 * Why this exists: TypeORM's better-sqlite3 driver hands every caller the SAME query runner on
 * the one synchronous connection. Two concurrent `dataSource.transaction()` calls therefore do
 * not get two transactions: the second becomes a SAVEPOINT inside the first, so one handler's
 * rollback or commit swallows the other's work, and plain reads see uncommitted rows. The
 * messaging layer processes different users in parallel, so this lib serialises transactions
 * per SQLite DataSource. The gate is re-entrant within one async call chain (tracked with
 * AsyncLocalStorage), so work that nests a transaction or reads through the DataSource while
 * holding the gate does not deadlock.
 */
export class SqliteTransactionGate {
  private tail: Promise<void> = Promise.resolve();
  private owner: symbol | undefined;
  private readonly context = new AsyncLocalStorage<symbol>();

  /** True inside `fn` of a {@link run} (and the async calls it makes). */
  heldByCaller(): boolean {
    return this.owner !== undefined && this.context.getStore() === this.owner;
  }

  /** Runs `fn` exclusively; immediately if the caller already holds the gate. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.heldByCaller()) return fn();
    const previous = this.tail;
    let release: () => void = () => undefined;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    const token = Symbol('sqlite-gate-owner');
    this.owner = token;
    try {
      return await this.context.run(token, fn);
    } finally {
      this.owner = undefined;
      release();
    }
  }
}

const gates = new WeakMap<DataSource, SqliteTransactionGate>();

/** The gate of a DataSource opened by `openDatabase` on SQLite; `undefined` for Postgres. */
export function gateOf(dataSource: DataSource): SqliteTransactionGate | undefined {
  return gates.get(dataSource);
}

/** A statement that cannot have written anything (the rest count as writes, to be safe). */
const READ_ONLY = /^\s*SELECT\b/i;

/**
 * Routes every `dataSource.transaction()` / `dataSource.manager.transaction()` and every query
 * on the shared query runner through one gate. Queries issued inside a gated transaction pass
 * straight through; others wait until the running transaction has committed or rolled back.
 *
 * Durability (see {@link SqliteWalSync}): a transaction, or a statement outside one, resolves only
 * once the WAL holding its commit is flushed; it waits for that flush AFTER releasing the gate, so
 * the next transaction runs meanwhile. A read outside a transaction also waits until every commit
 * it could have seen is flushed, so nothing (the outbox relay's publish, a mail sent from a
 * scanned row) acts on a row a power loss could take back. After a failed flush nothing runs
 * any more: every call fails with its `SqliteWalSyncError` before touching the database. A
 * transaction nested in another (re-entrant) waits for nothing: the outer one's commit covers it.
 */
export function installSqliteGate(dataSource: DataSource, walSync: SqliteWalSync): SqliteTransactionGate {
  const gate = new SqliteTransactionGate();
  gates.set(dataSource, gate);

  const manager = dataSource.manager;
  const transaction = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  manager.transaction = (async (...args: unknown[]) => {
    if (gate.heldByCaller()) return transaction(...args);
    walSync.assertHealthy();
    const result = await gate.run(() => transaction(...args));
    await walSync.barrier(walSync.committed());
    return result;
  }) as EntityManager['transaction'];

  const runner = dataSource.createQueryRunner();
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = (async (...args: unknown[]) => {
    if (gate.heldByCaller()) return query(...args);
    walSync.assertHealthy();
    const result = await gate.run(() => query(...args));
    await walSync.barrier(READ_ONLY.test(String(args[0])) ? undefined : walSync.committed());
    return result;
  }) as QueryRunner['query'];
  return gate;
}
