import { CommandSubjects, passwordChangeReplySchema } from '@idm/contracts';
import { CliError, usage } from '../cli-error.js';
import { parse } from '../command.js';
import { openSession } from '../nats-session.js';
import { readSecret } from '../read-secret.js';

/**
 * `idm password set <user> [--origin source|vault]`: reads the password without echo on a
 * terminal (or from stdin when piped) and sends `idm.cmd.password.change`. The password is
 * never printed, logged or put in an argument (where `ps` would show it).
 */
export async function passwordCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals, out, server } = parse(argv, { origin: { type: 'string' } });
  const [sub, userId] = positionals;
  if (sub !== 'set' || !userId)
    throw usage('usage: idm password set <user> [--origin source|vault]  (password from the terminal without echo, or stdin)');
  const origin = values.origin ?? 'source';
  if (origin !== 'source' && origin !== 'vault') throw usage('--origin must be source or vault');
  const password = await readSecret(`new password for ${userId}: `);
  if (password.length === 0) throw usage('empty password');
  const session = await openSession(server);
  try {
    let reply;
    try {
      const msg = await session.nc.request(CommandSubjects.PasswordChange, JSON.stringify({ userId, password, origin }), {
        timeout: 15_000,
      });
      reply = passwordChangeReplySchema.parse(msg.json());
    } catch (err) {
      throw new CliError(
        `password-sync did not answer on ${CommandSubjects.PasswordChange}: is it running? (${(err as Error).message})`,
        'IDM_CLI_UNREACHABLE',
      );
    }
    if (!reply.ok) throw new CliError(`password change refused: ${reply.error}`, 'IDM_CLI_REFUSED');
    out.data({ ok: true, userId, eventId: reply.eventId });
    out.line(`${out.style('green', 'accepted')}: password change for ${userId} recorded as ${reply.eventId}`);
    return 0;
  } finally {
    await session.close();
  }
}
