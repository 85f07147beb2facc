import { randomBytes } from 'node:crypto';
import type { NatsConnection, Subscription, Msg } from '@nats-io/nats-core';
import { CommandSubjects, EventTypes, type IdmEventOf } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import { startNatsServer, tempDir, type NatsServerHandle } from '@idm/testing';
import { startApp, type AppProcess } from '../app-process.fixture.js';
import { EventLog } from '../event-log.js';

/** What the test directory does with a password it is handed. */
export type DirectoryMode = 'apply' | 'hold';

/**
 * A directory on `nats:<subject>` (the connector protocol of password-sync's NATS target), in the
 * test process: `apply` answers `applied` and records the password; `hold` keeps the request
 * unanswered (a directory that hangs: the caller times out). Switching back to `apply` works off
 * the held requests too, as a directory catching up on its queue would.
 */
export class TestDirectory {
  /** Every password applied, in order: (user, password). */
  readonly applied: Array<{ readonly userId: string; readonly password: string }> = [];
  readonly held: Msg[] = [];
  private mode: DirectoryMode = 'apply';
  private readonly sub: Subscription;

  constructor(
    nc: NatsConnection,
    readonly subject: string,
  ) {
    this.sub = nc.subscribe(subject, {
      callback: (_err, msg) => {
        if (this.mode === 'hold') this.held.push(msg);
        else this.apply(msg);
      },
    });
  }

  setMode(mode: DirectoryMode): void {
    this.mode = mode;
    if (mode === 'apply') for (const msg of this.held.splice(0)) this.apply(msg);
  }

  /** How often each user's password was applied. */
  appliedCount(userId: string): number {
    return this.applied.filter((a) => a.userId === userId).length;
  }

  private apply(msg: Msg): void {
    const { userId, password } = msg.json<{ userId: string; password: string }>();
    this.applied.push({ userId, password });
    msg.respond(JSON.stringify({ status: 'applied' }));
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

/** nats-server + a test directory + one password-sync process on SQLite, for one fault test. */
export class PasswordStack {
  private constructor(
    readonly nats: NatsServerHandle,
    readonly nc: NatsConnection,
    readonly directory: TestDirectory,
    readonly app: AppProcess,
    readonly log: EventLog,
    readonly dir: string,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<PasswordStack> {
    const nats = await startNatsServer({ jetstream: true });
    const nc = await connectNats({ url: nats.url, name: 'faults-directory' });
    const directory = new TestDirectory(nc, 'faults.directory');
    const stream = `FAULTS_${randomBytes(4).toString('hex')}`;
    const dir = tempDir('faults-password');
    const app = await startApp(
      'password-sync',
      {
        NATS_URL: nats.url,
        IDM_STREAM: stream,
        HEALTH_PORT: 'off',
        DATA_DIR: dir,
        LOG_LEVEL: 'info',
        PASSWORD_TARGET: `nats:${directory.subject}`,
        PASSWORD_CACHE_KEY: randomBytes(32).toString('base64'),
        ...env,
      },
      dir,
    );
    return new PasswordStack(nats, nc, directory, app, await EventLog.open(nats.url, stream), dir);
  }

  /** Sends a password change command; resolves with the reply, or undefined when none came (the process died). */
  async change(userId: string, password: string, timeoutMs = 60_000): Promise<unknown> {
    try {
      return (
        await this.nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId, password }), { timeout: timeoutMs })
      ).json<unknown>();
    } catch {
      return undefined;
    }
  }

  /** Users with a `PasswordChanged` in the log: the changes that were accepted. */
  async accepted(): Promise<Set<string>> {
    return new Set((await this.log.ofType(EventTypes.PasswordChanged)).map((e) => e.subject));
  }

  async synced(): Promise<IdmEventOf<typeof EventTypes.PasswordSynced>[]> {
    return this.log.ofType(EventTypes.PasswordSynced);
  }

  async dispose(): Promise<void> {
    await this.app.stop();
    this.directory.close();
    await this.log.close();
    await this.nc.close();
    await this.nats.dispose();
  }
}
