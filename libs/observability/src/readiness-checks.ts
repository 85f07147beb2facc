import type { ReadinessCheck } from './health-server.js';

/**
 * The readiness checks every app shares, named as `/health/ready` reports them. Structural
 * parameters, so this lib needs neither NATS nor TypeORM: pass the app's `NatsConnection`,
 * `JetStreamTransport` and `DataSource`.
 */
export const readinessChecks = {
  /** `nats`: fails once the connection is closed (a reconnecting connection still counts as up). */
  nats: (nc: { isClosed(): boolean }): ReadinessCheck => ({
    name: 'nats',
    check: () => {
      if (nc.isClosed()) throw new Error('NATS connection closed');
    },
  }),
  /** `consumers`: fails while the app's JetStream consumers are not pulling. */
  consumers: (transport: { isReady(): boolean }): ReadinessCheck => ({
    name: 'consumers',
    check: () => {
      if (!transport.isReady()) throw new Error('consumers not pulling');
    },
  }),
  /** `database`: the app's own database answers `SELECT 1`. */
  database: (dataSource: { query(sql: string): Promise<unknown> }): ReadinessCheck => ({
    name: 'database',
    check: async () => void (await dataSource.query('SELECT 1')),
  }),
} as const;
