import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { SqliteWalSync } from './sqlite-wal-sync.js';

/**
 * Why this exists: TypeORM's better-sqlite3 driver hands every caller the SAME query runner on
 * the one synchronous connection. Two concurrent `dataSource.transaction()` calls therefore do
 * not get two transactions: the second becomes a SAVEPOINT inside the first, so one handler's
 * rollback or commit swallows the other's work, and plain reads see uncommitted rows. The
 * messaging layer processes different users in parallel, so this lib serialises transactions
 * per SQLite DataSource: each runs alone, in the order they were asked for.
 */
export class SqliteTransactionGate {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every `fn` passed before it has settled; the next one starts when it settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release: () => void = () => undefined;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await fn();
    } finally {
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

type Query = (...args: unknown[]) => Promise<unknown>;

/** What a transaction's runner keeps of its own: TypeORM's transaction state (protected fields). */
interface TransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

/**
 * The query runner gated transactions work through, one at a time: the shared runner's
 * connection and statement cache, its queries not gated (the running transaction holds the
 * gate), and a transaction state of its own. Why not AsyncLocalStorage to let a transaction's own
 * queries through: once used, it runs promise hooks on every promise of the process (3-4 % of
 * password-sync's CPU, profiled).
 */
function transactionRunner(dataSource: DataSource, shared: QueryRunner, query: Query): QueryRunner & TransactionState {
  const runner = Object.create(shared, {
    query: { value: query },
    isTransactionActive: { value: false, writable: true },
    transactionDepth: { value: 0, writable: true },
  }) as QueryRunner & TransactionState;
  Object.defineProperty(runner, 'manager', { value: dataSource.createEntityManager(runner), writable: true });
  return runner;
}

/**
 * Routes every `dataSource.transaction()` / `dataSource.manager.transaction()` and every query
 * on the shared query runner through one gate. A transaction's work gets an EntityManager whose
 * queries pass straight through (and whose `transaction()` nests as a SAVEPOINT); every other
 * query waits until the running transaction has committed or rolled back. So the work must do
 * its reads and writes through the manager it is given: a query or transaction through the
 * DataSource inside it would wait for the transaction it is part of, for ever.
 *
 * Durability (see {@link SqliteWalSync}): a transaction, or a statement outside one, resolves only
 * once the WAL holding its commit is flushed; it waits for that flush AFTER releasing the gate, so
 * the next transaction runs meanwhile. A read outside a transaction also waits until every commit
 * it could have seen is flushed, so nothing (the outbox relay's publish, a mail sent from a
 * scanned row) acts on a row a power loss could take back. After a failed flush nothing runs
 * any more: every call fails with its `SqliteWalSyncError` before touching the database. A
 * transaction nested in another waits for nothing: the outer one's commit covers it.
 */
export function installSqliteGate(dataSource: DataSource, walSync: SqliteWalSync): SqliteTransactionGate {
  const gate = new SqliteTransactionGate();
  gates.set(dataSource, gate);

  const shared = dataSource.createQueryRunner();
  const query = shared.query.bind(shared) as Query;
  const inside = transactionRunner(dataSource, shared, query);
  const manager = dataSource.manager;
  // EntityManager's own transaction(): begins on the manager's query runner, hands the work that runner's manager.
  const transaction = manager.transaction as (this: EntityManager, ...args: unknown[]) => Promise<unknown>;
  manager.transaction = (async (...args: unknown[]) => {
    walSync.assertHealthy();
    const result = await gate.run(() => {
      // TypeORM's state back to "no transaction" (a failed ROLLBACK leaves it set), so every
      // transaction begins with BEGIN, as when each had a runner of its own.
      inside.isTransactionActive = false;
      inside.transactionDepth = 0;
      return transaction.apply(inside.manager, args);
    });
    await walSync.barrier(walSync.committed());
    return result;
  }) as EntityManager['transaction'];

  shared.query = (async (...args: unknown[]) => {
    walSync.assertHealthy();
    const result = await gate.run(() => query(...args));
    await walSync.barrier(READ_ONLY.test(String(args[0])) ? undefined : walSync.committed());
    return result;
  }) as QueryRunner['query'];
  return gate;
}
