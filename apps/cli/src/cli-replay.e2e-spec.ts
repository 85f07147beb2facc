import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { testDatabases, waitFor, type PostgresTestDatabase } from '@idm/testing';
import { CliStack, type AppName } from './e2e/cli-stack.js';

// Replay takes the app's own database settings and refuses while the app runs. Postgres with a
// non-default DATABASE_SCHEMA per app: a replay that ignored it would rebuild the default schema
// (`notifier`, `password_sync`) and still report success, which is what these tests would catch.
describe('idm replay: the app’s DATABASE_SCHEMA, refused while the app runs (real nats-server, Postgres)', () => {
  const stack = new CliStack();
  let pg: PostgresTestDatabase | undefined;
  let unavailable: string | undefined;
  let admin: DataSource | undefined;
  const schemas: Record<Exclude<AppName, 'scheduler'>, string> = { notifier: '', 'password-sync': '' };
  const envOf = (app: Exclude<AppName, 'scheduler'>): NodeJS.ProcessEnv => ({
    DATABASE_URL: pg!.databaseUrl,
    DATABASE_SCHEMA: schemas[app],
  });

  before(async () => {
    const [sqlite, postgres] = await testDatabases();
    await sqlite.dispose();
    if (postgres.unavailable !== undefined) {
      unavailable = postgres.unavailable;
      return;
    }
    pg = postgres;
    schemas.notifier = `${pg.schema}_n`;
    schemas['password-sync'] = `${pg.schema}_p`;
    admin = new DataSource({ type: 'postgres', url: pg.databaseUrl });
    await admin.initialize();
    await stack.start();
    stack.startApp('notifier', envOf('notifier'));
    stack.startApp('password-sync', envOf('password-sync'));
    await stack.appsReady(['notifier', 'password-sync']);
  });
  after(async () => {
    await stack.dispose();
    if (admin) {
      for (const s of Object.values(schemas)) if (s) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await admin.destroy();
    }
  });

  const rows = async (app: Exclude<AppName, 'scheduler'>, table: string, columns: string): Promise<Array<Record<string, unknown>>> =>
    (await admin!.query(`SELECT ${columns} FROM "${schemas[app]}".${table} ORDER BY user_id`)) as Array<Record<string, unknown>>;

  it('writes each app’s rows to its DATABASE_SCHEMA', async (t) => {
    if (unavailable) return t.skip(unavailable);
    for (const u of ['ok-1', 'ok-2']) await stack.idmJson(['publish', 'user-added', '--user-id', u, '--email', `${u}@example.com`]);
    // The fake connector does not know `ghost-` users: the password stays cached.
    assert.equal((await stack.idm(['password', 'set', 'ghost-1'], { input: 'Gh0st-pass\n' })).code, 0);
    await waitFor(async () => (await rows('notifier', 'recipient', 'user_id')).length === 2, {
      message: 'recipients in the notifier schema',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await waitFor(async () => (await rows('password-sync', 'password_cache', 'user_id')).length === 1, {
      message: 'cached password in the password-sync schema',
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    await stack.settled();
  });

  it('refuses to replay an app that still answers its status subject, naming it and --force', async (t) => {
    if (unavailable) return t.skip(unavailable);
    for (const app of ['notifier', 'password-sync'] as const) {
      const before = await rows(app, app === 'notifier' ? 'recipient' : 'password_cache', '*');
      const refused = await stack.idm(['replay', app], { env: envOf(app) });
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      assert.match(refused.stderr, new RegExp(`${app} is still running .*--force`));
      assert.deepEqual(await rows(app, app === 'notifier' ? 'recipient' : 'password_cache', '*'), before, `${app}: nothing written`);
    }
    // --force gets past the check (a dry run, so the live app's tables are not rebuilt under it).
    const forced = await stack.idmJson<{ dryRun: boolean; read: number }>(['replay', 'notifier', '--force', '--dry-run'], {
      env: envOf('notifier'),
    });
    assert.equal(forced.dryRun, true);
    assert.ok(forced.read > 0);
  });

  it('once stopped, replays into the app’s DATABASE_SCHEMA (not the default schema)', async (t) => {
    if (unavailable) return t.skip(unavailable);
    await stack.stopApp('notifier');
    await stack.stopApp('password-sync');
    const recipients = await rows('notifier', 'recipient', 'user_id, email');
    const cached = await rows('password-sync', 'password_cache', 'user_id, state, changed_at');
    assert.deepEqual(
      cached.map((r) => r.state),
      ['cached'],
    );
    // Lose the projections in the apps' schemas; only a replay that opens those schemas brings them back.
    await admin!.query(`DELETE FROM "${schemas.notifier}".recipient`);
    await admin!.query(`DELETE FROM "${schemas['password-sync']}".password_cache`);

    const n = await stack.idmJson<{ rows: Record<string, number> }>(['replay', 'notifier'], { env: envOf('notifier') });
    assert.equal(n.rows.recipient, recipients.length);
    assert.deepEqual(await rows('notifier', 'recipient', 'user_id, email'), recipients);

    const p = await stack.idmJson<{ rows: Record<string, number> }>(['replay', 'password-sync'], { env: envOf('password-sync') });
    assert.equal(p.rows.password_cache, 1);
    // The log never held the secret, and its row was deleted: the entry comes back discarded.
    assert.deepEqual(await rows('password-sync', 'password_cache', 'user_id, state, changed_at, ciphertext'), [
      { ...cached[0], state: 'discarded', ciphertext: null },
    ]);
  });
});
