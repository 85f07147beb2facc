import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { waitFor } from '@idm/testing';
import { recordFault } from './fault-report.js';
import { PasswordStack } from './password-stack.js';

const CHANGES = 100;

describe('faults on the password path', () => {
  it('kill -9 of password-sync between accepting and attempting: no accepted password lost, none applied out of order', async (t) => {
    // The directory hangs, so every first attempt is in flight (PasswordChanged logged, no outcome) when the process dies.
    const stack = await PasswordStack.start({ PASSWORD_TARGET_TIMEOUT_MS: '60000' });
    try {
      stack.directory.setMode('hold');
      const passwords = new Map(Array.from({ length: CHANGES }, (_, i) => [`pw-${i}`, `Fault-${randomBytes(6).toString('hex')}-Pw`]));
      const replies = [...passwords].map(([userId, password]) => stack.change(userId, password, 5_000));
      await waitFor(async () => (await stack.accepted()).size === CHANGES, {
        timeoutMs: 60_000,
        message: 'every change accepted (PasswordChanged logged)',
      });
      await waitFor(() => stack.directory.held.length > 0, { timeoutMs: 30_000, message: 'first attempts in flight' });
      const killedAt = Date.now();
      await stack.app.kill();
      const inFlight = stack.directory.held.length;
      // The directory comes back and works off what it had queued; the outcomes never reach the dead process.
      stack.directory.setMode('apply');
      await stack.app.restart();
      await waitFor(async () => new Set((await stack.synced()).map((e) => e.subject)).size === CHANGES, {
        timeoutMs: 120_000,
        intervalMs: 200,
        message: 'every accepted password synced',
      }).catch(() => undefined);
      const recoveryMs = Date.now() - killedAt;
      await Promise.all(replies); // none was answered: the process died in the first attempt

      const synced = new Set((await stack.synced()).map((e) => e.subject));
      const lost = [...passwords.keys()].filter(
        (u) => !synced.has(u) || stack.directory.applied.filter((a) => a.userId === u).at(-1)?.password !== passwords.get(u),
      );
      const appliedTwice = [...passwords.keys()].filter((u) => stack.directory.appliedCount(u) > 1).length;
      // Out of order = some other password than the accepted one applied after it; with one change per user, any foreign password.
      const foreign = stack.directory.applied.filter((a) => passwords.get(a.userId) !== a.password).length;
      recordFault(
        {
          fault: 'kill -9 password-sync between accepting and attempting',
          inFlight: `${CHANGES} accepted, ${inFlight} attempts unanswered at the kill, 0 outcomes recorded`,
          lost: lost.length,
          duplicated: `${appliedTwice} applied twice (same password, in order)`,
          recoveryMs,
        },
        (m) => t.diagnostic(m),
      );
      assert.deepEqual(lost, [], 'every accepted password ends up applied');
      assert.equal(foreign, 0, 'never a password other than the accepted one');
    } catch (err) {
      t.diagnostic(stack.app.log().slice(-4000));
      throw err;
    } finally {
      await stack.dispose();
    }
  });
});
