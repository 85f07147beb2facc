import { usage } from '../cli-error.js';
import { parse } from '../command.js';
import { openSession } from '../nats-session.js';

/** `idm schedules list | fire <name>`: asks the scheduler (`idm.cmd.scheduler.list` / `.fire`). */
export async function schedulesCommand(argv: readonly string[]): Promise<number> {
  const { positionals, out, server } = parse(argv, {});
  const [sub, name] = positionals;
  if (sub !== 'list' && sub !== 'fire') throw usage('usage: idm schedules list | fire <name>');
  if (sub === 'fire' && !name) throw usage('usage: idm schedules fire <name>');
  const session = await openSession(server);
  try {
    if (sub === 'list') {
      const schedules = await session.ops.schedules();
      out.data(schedules);
      out.table(
        schedules.map((s) => ({ ...s, lastTick: (s.lastTick as { scheduledFor?: string } | null)?.scheduledFor ?? s.lastTick ?? null })),
        ['name', 'cron', 'timezone', 'task', 'enabled', 'nextRun', 'lastTick'],
      );
      return 0;
    }
    const reply = await session.ops.fireSchedule(name);
    out.data(reply);
    out.line(`${out.style('green', 'fired')} ${name}: tick ${String(reply.eventId)}`);
    return 0;
  } finally {
    await session.close();
  }
}
