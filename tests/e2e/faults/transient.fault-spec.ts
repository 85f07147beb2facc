import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEvent, EventTypes } from '@idm/contracts';
import { testDatabases, waitFor } from '@idm/testing';
import { EmailStack } from '../email-stack.js';
import { recordFault } from './fault-report.js';
import { PasswordStack } from './password-stack.js';

const USERS = 50;

describe('transient faults of the systems we talk to', () => {
  it('the SMTP server drops connections mid-DATA: retried on later ticks, counted as transient, nothing abandoned or lost', async (t) => {
    const [db, ...others] = await testDatabases();
    for (const o of others) if (o.unavailable === undefined) await o.dispose();
    assert.ok(db && db.kind === 'sqlite' && db.unavailable === undefined);
    const stack = await EmailStack.start(db);
    try {
      await stack.smtp.setMode('drop', { stage: 'data' });
      await stack.startNotifier();
      const at = new Date().toISOString();
      for (let i = 0; i < USERS; i++) {
        const userId = `drop-${i}`;
        await stack.log.publish(createEvent(EventTypes.UserAdded, userId, { userId, email: `${userId}@example.com` }, { source: '/faults', time: at }));
      }
      await stack.startScheduler('* * * * * *');
      const failed = () => stack.log.ofType(EventTypes.EmailFailed);
      await waitFor(async () => new Set((await failed()).map((e) => e.subject)).size === USERS, { timeoutMs: 60_000, message: 'every first send failed' });
      const faultEndsAt = Date.now();
      await stack.smtp.setMode('accept');
      let recipients = 0;
      await waitFor(
        async () => {
          recipients = new Set((await stack.smtp.messages()).flatMap((m) => m.to)).size;
          return recipients === USERS;
        },
        { timeoutMs: 60_000, message: 'every email delivered once the server accepts again' },
      ).catch(() => undefined);
      const recoveryMs = Date.now() - faultEndsAt;
      const failures = await failed();
      const abandoned = await stack.log.ofType(EventTypes.EmailAbandoned);
      recordFault(
        {
          fault: 'SMTP server drops the connection mid-DATA',
          inFlight: `${USERS} emails, ${failures.length} failed sends`,
          lost: USERS - recipients,
          duplicated: `${(await stack.smtp.messages()).length - recipients} emails`,
          recoveryMs,
        },
        (m) => t.diagnostic(m),
      );
      assert.equal(recipients, USERS);
      assert.equal(failures.filter((e) => e.data.permanent).length, 0, 'every failure counted as transient');
      assert.equal(abandoned.length, 0, 'nothing abandoned');
    } catch (err) {
      t.diagnostic(stack.logs());
      throw err;
    } finally {
      await stack.dispose();
    }
  });

  it('the directory times out: target-unavailable, retried with backoff without a user event, applied once it answers', async (t) => {
    const stack = await PasswordStack.start({ PASSWORD_TARGET_TIMEOUT_MS: '1000' });
    try {
      stack.directory.setMode('hold');
      const users = Array.from({ length: 20 }, (_, i) => `slow-${i}`);
      const replies = await Promise.all(users.map((u) => stack.change(u, `Slow-${u}-Passw0rd`)));
      assert.ok(replies.every((r) => (r as { ok?: boolean } | undefined)?.ok === true), 'accepted although the directory did not answer');
      const failures = await stack.log.ofType(EventTypes.PasswordSyncFailed);
      assert.ok(failures.length >= users.length && failures.every((e) => e.data.reason === 'target-unavailable'), 'every timeout is target-unavailable');
      const faultEndsAt = Date.now();
      stack.directory.held.splice(0); // those requests timed out long ago; the directory drops them
      stack.directory.setMode('apply');
      await waitFor(async () => new Set((await stack.synced()).map((e) => e.subject)).size === users.length, { timeoutMs: 60_000, message: 'every password applied after the outage' }).catch(() => undefined);
      const recoveryMs = Date.now() - faultEndsAt;
      const synced = new Set((await stack.synced()).map((e) => e.subject));
      recordFault(
        {
          fault: 'password directory times out (1 s), then answers',
          inFlight: `${users.length} changes, ${failures.length} timed-out attempts`,
          lost: users.length - synced.size,
          duplicated: `${users.filter((u) => stack.directory.appliedCount(u) > 1).length} applied twice`,
          recoveryMs,
        },
        (m) => t.diagnostic(m),
      );
      assert.equal(synced.size, users.length);
    } catch (err) {
      t.diagnostic(stack.app.log().slice(-4000));
      throw err;
    } finally {
      await stack.dispose();
    }
  });
});
