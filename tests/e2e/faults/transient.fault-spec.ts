import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventTypes } from '@idm/contracts';
import { waitFor } from '@idm/testing';
import { EmailStack } from '../email-stack.js';
import { publishUsers, sqliteDatabase, waitForRecipients } from './email-backlog.js';
import { recordFault } from './fault-report.js';
import { PasswordStack } from './password-stack.js';

const USERS = 50;

describe('transient faults of the systems we talk to', () => {
  it('the SMTP server drops connections mid-DATA: retried on later ticks, counted as transient, nothing abandoned or lost', async (t) => {
    const stack = await EmailStack.start(await sqliteDatabase());
    try {
      await stack.smtp.setMode('drop', { stage: 'data' });
      await stack.startNotifier();
      await publishUsers(stack, 'drop', USERS);
      await stack.startScheduler('* * * * * *');
      const failed = () => stack.log.ofType(EventTypes.EmailFailed);
      await waitFor(async () => new Set((await failed()).map((e) => e.subject)).size === USERS, {
        timeoutMs: 60_000,
        message: 'every first send failed',
      });
      const faultEndsAt = Date.now();
      await stack.smtp.setMode('accept');
      const { recipients, duplicates } = await waitForRecipients(stack, USERS, 60_000);
      const recoveryMs = Date.now() - faultEndsAt;
      const failures = await failed();
      const abandoned = await stack.log.ofType(EventTypes.EmailAbandoned);
      recordFault(
        {
          fault: 'SMTP server drops the connection mid-DATA',
          inFlight: `${USERS} emails, ${failures.length} failed sends`,
          lost: USERS - recipients,
          duplicated: `${duplicates} emails`,
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
      assert.ok(
        replies.every((r) => (r as { ok?: boolean } | undefined)?.ok === true),
        'accepted although the directory did not answer',
      );
      // The reply comes after the commit; the outbox relay appends the events a moment later.
      const failures = await waitFor(
        async () => {
          const found = await stack.log.ofType(EventTypes.PasswordSyncFailed);
          return found.length >= users.length ? found : undefined;
        },
        { timeoutMs: 30_000, message: 'a PasswordSyncFailed per user' },
      );
      assert.ok(
        failures.length >= users.length && failures.every((e) => e.data.reason === 'target-unavailable'),
        'every timeout is target-unavailable',
      );
      const faultEndsAt = Date.now();
      stack.directory.held.splice(0); // those requests timed out long ago; the directory drops them
      stack.directory.setMode('apply');
      await waitFor(async () => new Set((await stack.synced()).map((e) => e.subject)).size === users.length, {
        timeoutMs: 60_000,
        message: 'every password applied after the outage',
      }).catch(() => undefined);
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
