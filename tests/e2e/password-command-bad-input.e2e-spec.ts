import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { CommandSubjects, type PasswordChangeReply } from '@idm/contracts';
import { connectNats } from '@idm/messaging';
import { secretLeaks, startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@idm/testing';
import { startApp, type AppProcess } from './app-process.fixture.js';

/**
 * Hostile and broken `idm.cmd.password.change` requests against password-sync running as a
 * process at LOG_LEVEL=debug: a user id with NATS wildcards or control characters, a 1 MB
 * password, bytes that are not UTF-8, JSON that breaks off inside the password. Each gets a
 * clear `{ ok: false, error }` reply, the process keeps answering, and no password sent shows up
 * in its output, in any encoding.
 */

const tag = () => randomBytes(4).toString('hex');
const CANARY = {
  wildcard: `Wild-${tag()}-Pw`,
  gt: `Greater-${tag()}-Pw`,
  control: `Ctrl-${tag()}-Pw`,
  huge: `Huge-${tag()}-Pw`,
  notUtf8: `Latin-${tag()}-Pw`,
  brokenJson: `Broken-${tag()}-Pw`,
  badOrigin: `Origin-${tag()}-Pw`,
  dotted: `Dotted-${tag()}-Pw`,
  afterwards: `After-${tag()}-Pw`,
};
const ALL = Object.values(CANARY);
const CONNECTOR = 'e2e.connector.passwords';

describe('password-sync as a process: bad password commands get clear replies, no crash, no plaintext at LOG_LEVEL=debug', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let app: AppProcess;
  let connector: Subscription;
  let workDir: string;
  const stream = `E2E_BAD_${tag().toUpperCase()}`;
  const replies: string[] = [];
  const applied: string[] = [];

  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    nc = await connectNats({ url: nats.url, name: 'e2e-bad-input' });
    jsm = await jetstreamManager(nc);
    // The directory: knows nobody, so every accepted password stays cached (and is looked at again).
    connector = nc.subscribe(CONNECTOR, {
      callback: (_err, msg) => {
        applied.push(msg.json<{ userId: string }>().userId);
        msg.respond(JSON.stringify({ status: 'user-not-found' }));
      },
    });
    workDir = tempDir('e2e-bad-input');
    app = await startApp(
      'password-sync',
      {
        NATS_URL: nats.url,
        IDM_STREAM: stream,
        HEALTH_PORT: 'off',
        LOG_LEVEL: 'debug',
        DATA_DIR: join(workDir, 'data'),
        PASSWORD_CACHE_KEY: randomBytes(32).toString('base64'),
        PASSWORD_TARGET: `nats:${CONNECTOR}`,
      },
      workDir,
    );
  });
  after(async () => {
    await app?.stop();
    connector?.unsubscribe();
    await nc?.close();
    await nats?.dispose();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  async function send(body: string | Uint8Array): Promise<PasswordChangeReply> {
    const msg = await nc.request(CommandSubjects.PasswordChange, body, { timeout: 20_000 });
    replies.push(msg.string());
    return msg.json<PasswordChangeReply>();
  }

  function assertRefused(reply: PasswordChangeReply, pattern: RegExp): void {
    assert.equal(reply.ok, false, JSON.stringify(reply));
    assert.match(reply.ok ? '' : reply.error, pattern);
  }

  it('refuses user ids with NATS wildcards or control characters, saying why', async () => {
    assertRefused(
      await send(JSON.stringify({ userId: 'users.*', password: CANARY.wildcard })),
      /userId: must not contain the NATS wildcards \* or >/,
    );
    assertRefused(await send(JSON.stringify({ userId: '>', password: CANARY.gt })), /userId: must not contain the NATS wildcards/);
    assertRefused(
      await send(JSON.stringify({ userId: 'eve\r\nINFO forged log line', password: CANARY.control })),
      /userId: must not contain control characters/,
    );
    assertRefused(await send(JSON.stringify({ userId: 'x\ud800', password: CANARY.control })), /userId: must be well-formed Unicode/);
  });

  it('refuses a 1 MB password by its length', async () => {
    const password = `${CANARY.huge}${'x'.repeat(1_000_000)}`;
    const body = JSON.stringify({ userId: 'u-huge', password });
    assert.ok(body.length > 1_000_000 && body.length < 1_048_576, 'fits under the default max_payload');
    assertRefused(await send(body), /password: Too big: expected string to have <=1024 characters/);
  });

  it('refuses bytes that are not UTF-8 instead of caching a mangled password', async () => {
    const body = Buffer.concat([
      Buffer.from(`{"userId":"u-latin","password":"${CANARY.notUtf8}`),
      Buffer.from([0xff, 0xfe, 0xe9]),
      Buffer.from('"}'),
    ]);
    assertRefused(await send(body), /^the request is not valid UTF-8$/);
  });

  it('refuses broken JSON and a bad field without echoing the request', async () => {
    assertRefused(await send(`{"userId":"u-broken","password":"${CANARY.brokenJson}`), /^the request is not JSON$/);
    assertRefused(
      await send(JSON.stringify({ userId: 'u-origin', password: CANARY.badOrigin, origin: 'nowhere' })),
      /origin: Invalid option/,
    );
    assertRefused(await send(JSON.stringify({ userId: 42, password: 'x' })), /userId: Invalid input: expected string/);
    assertRefused(await send('null'), /\(root\): Invalid input: expected object/);
  });

  it('nothing was cached or published for the refused requests; a dotted id is fine (escaped into one subject token)', async () => {
    const reply = await send(JSON.stringify({ userId: 'jane.doe', password: CANARY.dotted }));
    assert.equal(reply.ok, true, JSON.stringify(reply));
    // The reply comes after the commit; the outbox relay publishes the two events right after it.
    const subjects = async () => Object.keys((await jsm.streams.info(stream, { subjects_filter: '>' })).state.subjects ?? {}).sort();
    await waitFor(async () => (await subjects()).length >= 2, { message: "jane.doe's two events in the stream" });
    assert.deepEqual(await subjects(), ['idm.password.changed.jane~2Edoe', 'idm.password.sync-failed.jane~2Edoe']);
    assert.deepEqual(applied, ['jane.doe']);
  });

  it('keeps running: the status subject answers and a valid change still goes through', async () => {
    const status = (await nc.request('idm.cmd.password-sync.status', '{}', { timeout: 5_000 })).json<{ ok: boolean; cached: number }>();
    assert.deepEqual([status.ok, status.cached], [true, 1]);
    assert.equal((await send(JSON.stringify({ userId: 'u-after', password: CANARY.afterwards }))).ok, true);
    await waitFor(() => applied.includes('u-after'), { message: 'u-after attempted' });
  });

  it('has written no password to its output, at debug level, in any encoding; nor to a reply', async () => {
    await app.stop();
    const log = app.log();
    assert.match(log, /"level":"debug"/, 'debug lines are in the output (LOG_LEVEL=debug took effect)');
    assert.match(log, /jane\.doe/, 'the output is about the requests');
    // Each refusal is logged, with its reason and size and nothing of the request.
    assert.equal(log.match(/password change refused/g)?.length, 10);
    assert.match(log, /password change refused \(\d{7} bytes\): invalid request: password: Too big/);
    assert.deepEqual(secretLeaks(log, ALL), [], 'canary in password-sync output');
    assert.deepEqual(secretLeaks(replies.join('\n'), ALL), [], 'canary in a reply');
    assert.deepEqual(
      replies.filter((r) => r.length > 400),
      [],
      'no reply is anywhere near the size of the request',
    );
  });
});
