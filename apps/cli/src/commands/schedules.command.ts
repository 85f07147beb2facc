import type { Command } from 'commander';
import { connecting, outputOf, type ConnectingOptions } from '../command.js';
import { openSession } from '../nats-session.js';

/** `idm schedules list | fire <name>`: asks the scheduler (`idm.cmd.scheduler.list` / `.fire`). */
export function schedulesCommand(program: Command): void {
  const schedules = program.command('schedules').description('list the cron schedules, or fire one now (asks the scheduler)');
  connecting(schedules.command('list').description('every schedule with its cron, time zone, task, next run and last tick')).action(
    (options: ConnectingOptions) => list(options),
  );
  connecting(
    schedules
      .command('fire')
      .description('fire a schedule now: the scheduler appends its BulkTaskTick')
      .argument('<name>', 'the schedule name (see idm schedules list)'),
  ).action((name: string, options: ConnectingOptions) => fire(name, options));
}

async function list(options: ConnectingOptions): Promise<void> {
  const out = outputOf(options);
  const session = await openSession(options);
  try {
    const schedules = await session.ops.schedules();
    out.data(schedules);
    out.table(
      schedules.map((s) => ({ ...s, lastTick: (s.lastTick as { scheduledFor?: string } | null)?.scheduledFor ?? s.lastTick ?? null })),
      ['name', 'cron', 'timezone', 'task', 'enabled', 'nextRun', 'lastTick'],
    );
  } finally {
    await session.close();
  }
}

async function fire(name: string, options: ConnectingOptions): Promise<void> {
  const out = outputOf(options);
  const session = await openSession(options);
  try {
    const reply = await session.ops.fireSchedule(name);
    out.data(reply);
    out.line(`${out.style('green', 'fired')} ${name}: tick ${String(reply.eventId)}`);
  } finally {
    await session.close();
  }
}
