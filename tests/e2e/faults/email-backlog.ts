import { createEvent, EventTypes } from '@idm/contracts';
import { testDatabases, waitFor, type ReceivedMail, type SqliteTestDatabase } from '@idm/testing';
import type { EmailStack } from '../email-stack.js';

/** A fresh SQLite database for one stack (other databases offered are released). */
export async function sqliteDatabase(): Promise<SqliteTestDatabase> {
  let found: SqliteTestDatabase | undefined;
  for (const db of await testDatabases()) {
    if (db.kind === 'sqlite' && db.unavailable === undefined && !found) found = db;
    else if (db.unavailable === undefined) await db.dispose();
  }
  if (!found) throw new Error('no SQLite test database');
  return found;
}

/** Appends `UserAdded` for `<prefix>-0` … `<prefix>-<count-1>`, each wanting a welcome email. The stream must exist (start an app first). */
export async function publishUsers(stack: EmailStack, prefix: string, count: number): Promise<void> {
  const at = new Date().toISOString();
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const userId = `${prefix}-${i}`;
      return stack.log.publish(
        createEvent(EventTypes.UserAdded, userId, { userId, email: `${userId}@example.com` }, { source: '/faults/directory', time: at }),
      );
    }),
  );
}

/** Resolves once at least `n` emails reached the SMTP server (the moment to inject a fault mid-drain); returns how many. */
export async function sentAtLeast(stack: EmailStack, n: number): Promise<number> {
  let sent = 0;
  await waitFor(
    async () => {
      sent = (await stack.smtp.messages()).length;
      return sent >= n;
    },
    { timeoutMs: 60_000, intervalMs: 20, message: `${n} emails sent before the fault` },
  );
  return sent;
}

/** What reached the SMTP server: distinct recipients, extra copies, and recipients whose copies differ in Message-ID. */
export interface DeliveryTally {
  readonly mails: readonly ReceivedMail[];
  readonly recipients: number;
  readonly duplicates: number;
  readonly mixedIds: readonly string[];
}

/** Waits (up to `timeoutMs`, without failing) until `count` distinct recipients were emailed, then tallies. */
export async function waitForRecipients(stack: EmailStack, count: number, timeoutMs = 150_000): Promise<DeliveryTally> {
  await waitFor(async () => tally(await stack.smtp.messages()).recipients >= count, {
    timeoutMs,
    intervalMs: 100,
    message: `${count} users emailed`,
  }).catch(() => undefined);
  return tally(await stack.smtp.messages());
}

function tally(mails: readonly ReceivedMail[]): DeliveryTally {
  const byRecipient = new Map<string, ReceivedMail[]>();
  for (const m of mails) for (const to of m.to) byRecipient.set(to, [...(byRecipient.get(to) ?? []), m]);
  let duplicates = 0;
  const mixedIds: string[] = [];
  for (const [to, copies] of byRecipient) {
    duplicates += copies.length - 1;
    if (new Set(copies.map((c) => c.messageId)).size > 1) mixedIds.push(to);
  }
  return { mails, recipients: byRecipient.size, duplicates, mixedIds };
}
