import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { DataSource } from 'typeorm';
import { connectNats } from '@idm/messaging';
import {
  startNatsServer,
  startSmtpServer,
  tempDir,
  waitFor,
  type NatsServerHandle,
  type PostgresTestDatabase,
  type SmtpServerHandle,
  type SqliteTestDatabase,
} from '@idm/testing';
import { startApp, type AppProcess } from './app-process.fixture.js';
import { EventLog } from './event-log.js';

/** The notifier's durable consumer of ticks (apps/notifier/src/notifier.tokens.ts; apps are not imported here). */
export const NOTIFIER_TICK_CONSUMER = 'notifier-ticks';
export const MAIL_FROM = 'IDM <noreply@idm.example>';

/** One row of the notifier's `pending_email` table, as the test reads it. */
export interface PendingRow {
  readonly userId: string;
  readonly emailType: string;
  readonly attempts: number;
  readonly claimedTick: string | null;
}

/**
 * A whole deployment for one test: a nats-server, an SMTP server process, a database, and any
 * number of scheduler and notifier processes started from `dist/apps`.
 */
export class EmailStack {
  readonly notifiers: AppProcess[] = [];
  readonly schedulers: AppProcess[] = [];
  private peek: DataSource | undefined;
  private started = 0;

  private constructor(
    readonly nats: NatsServerHandle,
    readonly smtp: SmtpServerHandle,
    readonly db: SqliteTestDatabase | PostgresTestDatabase,
    readonly stream: string,
    readonly log: EventLog,
    readonly logDir: string,
  ) {}

  /** `nats`: a server (or a cluster, as a handle whose `url` lists every node) the test started; default a new one. */
  static async start(db: SqliteTestDatabase | PostgresTestDatabase, natsServer?: NatsServerHandle): Promise<EmailStack> {
    const nats = natsServer ?? (await startNatsServer({ jetstream: true }));
    const smtp = await startSmtpServer({ mode: 'accept' });
    const stream = `E2E_${randomBytes(4).toString('hex')}`;
    return new EmailStack(nats, smtp, db, stream, await EventLog.open(nats.url, stream), tempDir('e2e-logs'));
  }

  private commonEnv(): Record<string, string> {
    // Replicas run side by side: no fixed health port.
    return { NATS_URL: this.nats.url, IDM_STREAM: this.stream, LOG_LEVEL: 'info', HEALTH_PORT: 'off' };
  }

  /** Starts a notifier process and waits until it consumes. */
  async startNotifier(extra: Record<string, string> = {}): Promise<AppProcess> {
    const database: Record<string, string> =
      this.db.kind === 'sqlite'
        ? { DATA_DIR: this.db.dataDir }
        : { DATABASE_URL: this.db.databaseUrl, DATABASE_SCHEMA: this.db.schema, DATA_DIR: this.logDir };
    const app = await startApp(
      'notifier',
      {
        ...this.commonEnv(),
        ...database,
        SMTP_URL: this.smtp.url,
        MAIL_FROM,
        SMTP_MAX_CONNECTIONS: '4',
        EMAIL_SEND_CONCURRENCY: '4',
        SMTP_CONNECTION_TIMEOUT_MS: '3000',
        SMTP_GREETING_TIMEOUT_MS: '3000',
        SMTP_SOCKET_TIMEOUT_MS: '5000',
        ...extra,
      },
      this.logDir,
      { name: `notifier-${++this.started}`, ready: /ready: SMTP/ },
    );
    this.notifiers.push(app);
    return app;
  }

  /** Starts a scheduler process with `email-retry` on `cron` (6 fields: every second in specs). */
  async startScheduler(cron = '* * * * * *'): Promise<AppProcess> {
    const app = await startApp('scheduler', { ...this.commonEnv(), EMAIL_RETRY_CRON: cron }, this.logDir, {
      name: `scheduler-${++this.started}`,
      ready: /email-retry: .* → RetryEmailNotifications/,
    });
    this.schedulers.push(app);
    return app;
  }

  /** The notifier's database, opened once for reading, and the qualified name of one of its tables. */
  private async peekAt(table: string): Promise<{ peek: DataSource; table: string }> {
    this.peek ??= await new DataSource(
      this.db.kind === 'sqlite'
        ? { type: 'better-sqlite3', database: join(this.db.dataDir, 'notifier.sqlite') }
        : { type: 'postgres', url: this.db.databaseUrl },
    ).initialize();
    return { peek: this.peek, table: this.db.kind === 'sqlite' ? table : `"${this.db.schema}".${table}` };
  }

  /** Rows of `pending_email`, read straight from the notifier's database. */
  async pendingRows(): Promise<PendingRow[]> {
    const { peek, table } = await this.peekAt('pending_email');
    const rows = (await peek.query(
      `SELECT user_id, email_type, attempts, claimed_tick FROM ${table} ORDER BY user_id, email_type`,
    )) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      userId: String(r.user_id),
      emailType: String(r.email_type),
      attempts: Number(r.attempts),
      claimedTick: r.claimed_tick === null ? null : String(r.claimed_tick),
    }));
  }

  /**
   * Waits until the notifier's tick consumer has acknowledged every message up to `seq`, and the
   * outcomes those ticks stored are published: a tick is acked once its outcomes are committed (the
   * flags changed, the events in the outbox); the relay appends the events right after.
   */
  async waitUntilTicksHandled(seq: number, timeoutMs = 30_000): Promise<void> {
    const nc = await connectNats({ url: this.nats.url, name: 'e2e-consumer-info' });
    try {
      const jsm = await jetstreamManager(nc);
      await waitFor(async () => (await jsm.consumers.info(this.stream, NOTIFIER_TICK_CONSUMER)).ack_floor.stream_seq >= seq, {
        message: `notifier ticks handled up to seq ${seq}`,
        timeoutMs,
      });
    } finally {
      await nc.close();
    }
    await this.waitUntilOutboxPublished(timeoutMs);
  }

  /** Waits until the notifier's outbox is empty: every event it stored is in the stream. */
  async waitUntilOutboxPublished(timeoutMs = 30_000): Promise<void> {
    const { peek, table } = await this.peekAt('outbox');
    await waitFor(async () => Number(((await peek.query(`SELECT COUNT(*) AS n FROM ${table}`)) as Array<{ n: unknown }>)[0]?.n) === 0, {
      message: 'the outbox published',
      timeoutMs,
    });
  }

  /** The stream sequence of the last message (for {@link waitUntilTicksHandled}). */
  async lastSeq(): Promise<number> {
    const nc = await connectNats({ url: this.nats.url, name: 'e2e-stream-info' });
    try {
      return (await (await jetstreamManager(nc)).streams.info(this.stream)).state.last_seq;
    } finally {
      await nc.close();
    }
  }

  /** Every process log, for a failing assertion's message. */
  logs(): string {
    return [...this.schedulers, ...this.notifiers].map((a) => `--- ${a.name}\n${a.log().slice(-3000)}`).join('\n');
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.schedulers, ...this.notifiers].map((a) => a.stop()));
    if (this.peek?.isInitialized) await this.peek.destroy();
    await this.log.close();
    await this.smtp.dispose();
    await this.nats.dispose();
    await this.db.dispose();
  }
}
