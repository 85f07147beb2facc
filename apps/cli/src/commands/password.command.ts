import { CommandSubjects, passwordChangeReplySchema } from '@idm/contracts';
import { Option, type Command } from 'commander';
import { CliError, usage } from '../cli-error.js';
import { connecting, outputOf, type ConnectingOptions } from '../command.js';
import { openSession } from '../nats-session.js';
import { readSecret } from '../read-secret.js';

/**
 * `idm password set <user> [--origin source|vault]`: reads the password without echo on a
 * terminal (or from stdin when piped) and sends `idm.cmd.password.change`. The password is
 * never printed, logged or put in an argument (where `ps` would show it).
 */
export function passwordCommand(program: Command): void {
  const password = program.command('password').description('send a password change to password-sync (password-writer or admin identity)');
  connecting(
    password
      .command('set')
      .description("set a user's password: read without echo from the terminal, or the first line of stdin when piped")
      .argument('<user>', 'the user id')
      .addOption(new Option('--origin <origin>', 'where the change was made').choices(['source', 'vault']).default('source')),
  ).action((userId: string, options: PasswordSetOptions) => setPassword(userId, options));
}

interface PasswordSetOptions extends ConnectingOptions {
  readonly origin: 'source' | 'vault';
}

async function setPassword(userId: string, options: PasswordSetOptions): Promise<void> {
  const { origin } = options;
  const out = outputOf(options);
  const password = await readSecret(`new password for ${userId}: `);
  if (password.length === 0) throw usage('empty password');
  const session = await openSession(options);
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
  } finally {
    await session.close();
  }
}
