import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { ConstraintViolationError } from 'ldapts';
import { readEnv } from '@idm/config';
import type { IdmEvent } from '@idm/contracts';
import { ManualClock, secretLeaks, startSlapd, tempDir, type SlapdHandle } from '@idm/testing';
import { loadCacheKey } from './password-cache/cache-key.config.js';
import { decide, emptyState } from './password-cache/password-cache.decider.js';
import { PasswordCacheRepository } from './password-cache/password-cache.repository.js';
import { PasswordCacheService, type ServiceLogger } from './password-cache/password-cache.service.js';
import { openPasswordSyncDatabase } from './password-sync.database.js';
import { PasswordSealer } from './password-cache/sealed-secret.js';
import { specOutbox, type SpecOutbox } from './password-cache/spec-support/spec-outbox.js';
import { passwordSyncEnv } from './password-sync.config.js';
import { LdapPasswordTarget, mapLdapError } from './targets/ldap-password-target.js';

/** Passwords no one would type twice; if any byte sequence of them shows up, a secret leaked. */
const CANARY_LONG = `Canary-${randomBytes(6).toString('hex')}-Secret`;
/** Short enough for the directory's pwdMinLength 8 to reject it. */
const CANARY_SHORT = `Q${randomBytes(2).toString('hex')}!w`.slice(0, 7);
const CANARIES = [CANARY_LONG, CANARY_SHORT];

/** Every encoding a careless write could use. */
const leaks = (haystack: Buffer | string): string[] => secretLeaks(haystack, CANARIES);

describe('no password in plaintext anywhere (canary)', () => {
  let slapd: SlapdHandle;
  let dataSource: DataSource;
  let dataDir: string;
  const logs: string[] = [];
  const published: IdmEvent[] = [];
  const errors: string[] = [];
  const clock = new ManualClock('2026-03-01T10:00:00.000Z');
  let service: PasswordCacheService;
  let outbox: SpecOutbox;
  /** Runs one step and publishes its events, so `published` keeps the order of the steps. */
  const step = async <T>(work: Promise<T>): Promise<T> => {
    const result = await work;
    await outbox.flush();
    return result;
  };

  before(async () => {
    slapd = await startSlapd({ ppolicyMinLength: 8 });
    await slapd.addUser('markus', { password: 'Initial-Passw0rd' });
    dataDir = tempDir('pwsync-canary');
    dataSource = await openPasswordSyncDatabase({ dataDir });
    const logger: ServiceLogger = { log: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) };
    outbox = specOutbox(dataSource, (e) => Promise.resolve(published.push(JSON.parse(JSON.stringify(e)) as IdmEvent)));
    service = new PasswordCacheService({
      dataSource,
      repository: new PasswordCacheRepository(),
      sealer: new PasswordSealer(randomBytes(32)),
      target: new LdapPasswordTarget({
        url: slapd.url,
        bindDn: slapd.serviceBindDn,
        bindPassword: slapd.serviceBindPassword,
        baseDn: slapd.baseDn,
        timeoutMs: 5_000,
      }),
      outbox: outbox.outbox,
      clock,
      policy: { minutes: 60 },
      logger,
      consumer: 'password-sync',
    });
  });
  after(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await slapd?.dispose();
  });

  it('has a detector that would see a leak', () => {
    assert.equal(leaks(`row:${CANARY_LONG};`).length > 0, true);
    assert.equal(leaks(Buffer.from(CANARY_SHORT, 'utf16le')).length > 0, true);
    assert.equal(leaks(Buffer.from(CANARY_LONG).toString('base64')).length > 0, true);
  });

  it('runs the canaries through every path: policy violation, user not found, outage, expiry', async () => {
    // Policy violation (short canary), for an existing user.
    assert.equal(
      (await step(service.changePassword({ userId: 'markus', origin: 'source', password: Buffer.from(CANARY_SHORT) }))).ok,
      true,
    );
    // User not found (long canary), then a user event retries it, still not found.
    assert.equal((await step(service.changePassword({ userId: 'ghost', origin: 'source', password: Buffer.from(CANARY_LONG) }))).ok, true);
    // Directory down: target-unavailable, then a timer retry.
    await slapd.stop();
    try {
      clock.advance(1_000);
      assert.equal(
        (await step(service.changePassword({ userId: 'markus', origin: 'source', password: Buffer.from(CANARY_LONG) }))).ok,
        true,
      );
      clock.advance(5_000);
      assert.equal((await step(service.sweep())).retried, 1);
    } finally {
      await slapd.start();
    }
    // Expiry destroys both.
    clock.advance(61 * 60_000);
    assert.equal((await step(service.sweep())).expired, 2);
    assert.deepEqual(
      published.map((e) => e.type),
      [
        'idm.password.changed',
        'idm.password.sync-failed',
        'idm.password.changed',
        'idm.password.sync-failed',
        'idm.password.changed',
        'idm.password.sync-failed',
        'idm.password.sync-failed',
        'idm.password.expired',
        'idm.password.expired',
      ],
    );
  });

  it('runs the canaries through the decider and the error mapping', () => {
    const sealer = new PasswordSealer(randomBytes(32));
    const decision = decide(
      {
        type: 'ChangePassword',
        userId: 'u',
        origin: 'source',
        sealed: sealer.seal(CANARY_LONG, 'u'),
        changedAt: '2026-03-01T10:00:00.000Z',
      },
      emptyState('u'),
      { now: new Date('2026-03-01T10:00:00.000Z'), policy: { minutes: 60 } },
    );
    errors.push(JSON.stringify(decision.outputs), JSON.stringify({ ...decision.state, sealed: undefined }));
    // A server (or a bug) that echoes the password in its diagnostic message is redacted.
    errors.push(JSON.stringify(mapLdapError(new ConstraintViolationError(`password ${CANARY_SHORT} too short`), CANARY_SHORT)));
    errors.push(JSON.stringify(mapLdapError(new Error(`socket hang up while sending ${CANARY_LONG}`), Buffer.from(CANARY_LONG))));
    // Configuration errors never echo a secret-looking variable.
    try {
      readEnv(passwordSyncEnv, {
        PASSWORD_TARGET: 'ftp://nope',
        PASSWORD_CACHE_KEY: CANARY_LONG,
        PASSWORD_TARGET_BIND_PASSWORD: CANARY_SHORT,
        PASSWORD_SWEEP_INTERVAL_SECONDS: CANARY_LONG,
      });
    } catch (err) {
      errors.push((err as Error).message);
    }
    try {
      loadCacheKey({ PASSWORD_CACHE_KEY: CANARY_LONG, embedded: false, dataDir });
    } catch (err) {
      errors.push((err as Error).message);
    }
    assert.ok(errors.length >= 5);
  });

  it('finds no canary in the SQLite files, the log, the events or the error texts', async () => {
    await dataSource.destroy();
    const files = readdirSync(dataDir).filter((f) => f.startsWith('password-sync.sqlite'));
    assert.ok(files.includes('password-sync.sqlite'));
    for (const f of files) assert.deepEqual(leaks(readFileSync(join(dataDir, f))), [], `canary found in ${f}`);
    assert.ok(logs.length > 0);
    assert.deepEqual(leaks(logs.join('\n')), [], 'canary found in the log');
    assert.deepEqual(leaks(JSON.stringify(published)), [], 'canary found in an event');
    assert.deepEqual(leaks(errors.join('\n')), [], 'canary found in an error text');
  });
});
