import { CliError } from '../cli-error.js';
import type { Command } from 'commander';
import { connecting, outputOf, type ConnectingOptions } from '../command.js';
import { openSession } from '../nats-session.js';

/**
 * `idm user <id>`: pending operations for one user, from the apps that own them — pending email
 * types with attempts and last error (notifier), the cached password's state, reason, attempts and
 * expiry (password-sync; never the password). Unknown to both → exit 1.
 */
export function userCommand(program: Command): void {
  connecting(
    program
      .command('user')
      .description('pending emails and the cached password state of one user (never the password); exit 1 when no app knows the user')
      .argument('<id>', 'the user id (as in the events)'),
  ).action((userId: string, options: ConnectingOptions) => user(userId, options));
}

async function user(userId: string, options: ConnectingOptions): Promise<void> {
  const out = outputOf(options);
  const session = await openSession(options);
  try {
    const report = await session.ops.user(userId);
    const notifier = report.emails;
    const pending = notifier?.pending ?? [];
    const entry = report.password;
    if (!report.known)
      throw new CliError(`unknown user ${JSON.stringify(userId)}: no recipient, no pending email, no cached password`, 'IDM_CLI_NOT_FOUND');
    out.data({ userId, emails: notifier, password: report.passwordSyncAnswered ? entry : null });
    out.heading(`user ${userId}`);
    out.heading('pending emails');
    if (!notifier) out.line(out.style('yellow', '  notifier did not answer'));
    else
      out.table(
        pending.map((p) => ({ ...p, lastError: p.lastError ?? '-' })),
        ['emailType', 'attempts', 'lastError', 'firstQueuedAt', 'claimed'],
      );
    out.heading('password');
    if (!report.passwordSyncAnswered) out.line(out.style('yellow', '  password-sync did not answer'));
    else if (!entry) out.line(out.style('dim', '  nothing cached'));
    else out.table([entry], ['state', 'reason', 'attempts', 'expiresAt', 'nextRetryAt', 'changedAt']);
  } finally {
    await session.close();
  }
}
