import type { Command } from 'commander';
import { connecting, outputOf, type ConnectingOptions } from '../command.js';
import { openSession } from '../nats-session.js';

/**
 * `idm status`: the log (size, consumers and their lag, dead letters) from JetStream, and what
 * each app reports about itself over request/reply. An app that does not answer is shown as
 * down; only an unreachable NATS server fails the command.
 */
export function statusCommand(program: Command): void {
  connecting(
    program
      .command('status')
      .description('stream, consumers and lag, dead letters, and what each app reports (pending emails, cached passwords, schedules)'),
  ).action((options: ConnectingOptions) => status(options));
}

async function status(options: ConnectingOptions): Promise<void> {
  const out = outputOf(options);
  const session = await openSession(options);
  try {
    const report = await session.ops.status();
    const { stream, consumers, deadLetters: dlq, notifier, passwordSync: passwords, scheduler } = report;
    out.data(report);
    out.heading(`stream ${session.stream}`);
    out.line(`  ${stream.messages} events, ${(stream.bytes / 1024).toFixed(1)} KiB, seq ${stream.firstSeq}..${stream.lastSeq}`);
    out.line(`  dead letters: ${dlq === 0 ? out.style('green', '0') : out.style('red', String(dlq))}`);
    out.heading('apps');
    out.table(
      report.apps.map((a) => ({ app: a.name, answers: a.up ? 'yes' : 'no', version: a.version ?? '-' })),
      ['app', 'answers', 'version'],
    );
    out.heading('consumers');
    out.table(
      consumers.map((c) => ({ ...c })),
      ['name', 'lag', 'unacked', 'redelivered', 'delivered'],
    );
    out.heading('notifier');
    if (!notifier) out.line(out.style('yellow', '  no answer (not running?)'));
    else {
      const byType = (notifier.pendingByType ?? {}) as Record<string, number>;
      out.line(
        `  ${String(notifier.pending)} pending emails, ${String(notifier.recipients)} recipients, oldest ${String(notifier.oldestPending ?? '-')}`,
      );
      out.table(Object.entries(byType).map(([type, n]) => ({ type, pending: n })));
      const instances = (notifier.instances ?? []) as Array<{ instanceId: string; heartbeatAt: string; live: boolean; claims: number }>;
      for (const i of instances) {
        out.line(
          `  instance ${i.instanceId}: ${i.live ? out.style('green', 'live') : out.style('yellow', 'lease lapsed')}, heartbeat ${i.heartbeatAt}, ${i.claims} claims`,
        );
      }
    }
    out.heading('password-sync');
    if (!passwords) out.line(out.style('yellow', '  no answer (not running?)'));
    else {
      const byReason = (passwords.cachedByReason ?? {}) as Record<string, number>;
      out.line(
        `  ${String(passwords.cached)} cached passwords, nearest expiry ${String(passwords.nearestExpiry ?? '-')}, next retry ${String(passwords.nextRetry ?? '-')}`,
      );
      out.table(Object.entries(byReason).map(([reason, n]) => ({ reason, cached: n })));
      const keys = passwords.keys as
        { current?: string; previous?: string[]; sealedWithPreviousKey?: number; sealedWithUnknownKey?: number } | undefined;
      if (keys?.current) {
        const old = keys.sealedWithPreviousKey ?? 0;
        const unknown = keys.sealedWithUnknownKey ?? 0;
        const previous = keys.previous ?? [];
        out.line(
          `  cache key ${keys.current}${previous.length > 0 ? `, previous ${previous.join(', ')}` : ''}: ${old} cached under a previous key${unknown > 0 ? `, ${unknown} under a key no longer held` : ''}`,
        );
        if (previous.length > 0 && old === 0)
          out.line(out.style('green', '  every cached password is under the current key: the previous keys can be removed'));
        if (unknown > 0)
          out.line(
            out.style(
              'red',
              `  ${unknown} cached passwords cannot be opened with the keys held (they are discarded on their next attempt)`,
            ),
          );
      }
    }
    out.heading('schedules');
    if (!scheduler) out.line(out.style('yellow', '  no answer (not running?)'));
    else
      out.table((scheduler.schedules ?? []) as Array<Record<string, unknown>>, ['name', 'cron', 'timezone', 'task', 'enabled', 'nextRun']);
  } finally {
    await session.close();
  }
}
