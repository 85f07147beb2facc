#!/usr/bin/env node
import { OperationsError } from '@idm/operations';
import { CliError, fromOperationsError } from './cli-error.js';
import { dlqCommand } from './commands/dlq.command.js';
import { natsConfigCommand } from './commands/nats-config.command.js';
import { passwordCommand } from './commands/password.command.js';
import { publishCommand } from './commands/publish.command.js';
import { replayCommand } from './commands/replay.command.js';
import { schedulesCommand } from './commands/schedules.command.js';
import { setupCommand } from './commands/setup.command.js';
import { statusCommand } from './commands/status.command.js';
import { tailCommand } from './commands/tail.command.js';
import { userCommand } from './commands/user.command.js';

const HELP = `idm — operate idm-events

  idm publish <type> --<field> value …   append an event (user-added, user-modified; types apps state need --force)
  idm password set <user>                send a password change (read without echo, or from stdin)
  idm tail [filter] [--since TIME|--all] print events as they arrive (filter: type, user:<id>, subject)
  idm status                             stream, consumers and lag, dead letters, apps' pending work
  idm user <id>                          pending emails and cached password of one user
  idm dlq list | retry <seq…> | drop <seq…>
  idm schedules list | fire <name>
  idm replay <notifier|password-sync> [--from-seq N | --since TIME] [--dry-run] [--force]
  idm setup                              create or update the streams (admin identity; before the apps start)
  idm nats-config --out DIR              write nats-server permissions and one nkey per role (offline)

Common flags: --json (machine-readable), --server nats://host:4222 (default NATS_URL).
Environment: NATS_URL, NATS_USER/NATS_PASSWORD, NATS_CREDS or NATS_NKEY_SEED_FILE, NATS_INBOX_PREFIX,
NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE, IDM_STREAM; replay also DATABASE_URL, DATA_DIR,
DATABASE_SCHEMA (as the app reads them).
Roles: password set needs password-writer (or admin); every other command that connects needs admin.`;

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  publish: publishCommand,
  password: passwordCommand,
  tail: tailCommand,
  status: statusCommand,
  user: userCommand,
  dlq: dlqCommand,
  schedules: schedulesCommand,
  replay: replayCommand,
  setup: setupCommand,
  'nats-config': natsConfigCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help' || rest.includes('--help')) {
    process.stdout.write(HELP + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new CliError(`unknown command ${JSON.stringify(name)}; run idm --help`, 'IDM_CLI_USAGE');
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const cli =
      err instanceof CliError
        ? err
        : err instanceof OperationsError
          ? fromOperationsError(err)
          : new CliError(err instanceof Error ? err.message : String(err), 'IDM_CLI_FAILED');
    process.stderr.write(`idm: ${cli.message}\n`);
    process.exitCode = cli.exitCode;
  },
);
