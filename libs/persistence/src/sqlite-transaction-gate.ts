import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

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

  /** Runs `fn` exclusively; immediately if the caller already holds the gate. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.owner !== undefined && this.context.getStore() === this.owner) return fn();
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

/**
 * Routes every `dataSource.transaction()` / `dataSource.manager.transaction()` and every query
 * on the shared query runner through one gate. Queries issued inside a gated transaction pass
 * straight through; others wait until the running transaction has committed or rolled back.
 */
export function installSqliteGate(dataSource: DataSource): SqliteTransactionGate {
  const gate = new SqliteTransactionGate();
  gates.set(dataSource, gate);

  const manager = dataSource.manager;
  const transaction = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  manager.transaction = ((...args: unknown[]) => gate.run(() => transaction(...args))) as EntityManager['transaction'];

  const runner = dataSource.createQueryRunner();
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = ((...args: unknown[]) => gate.run(() => query(...args))) as QueryRunner['query'];
  return gate;
}
