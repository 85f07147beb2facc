import { Command, type OutputConfiguration } from 'commander';
import { appVersion } from '@idm/config';
import { completionCommand } from './commands/completion.command.js';
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

const ENVIRONMENT = `
Environment:
  NATS_URL                             the NATS server (or --server)
  NATS_USER/NATS_PASSWORD, NATS_CREDS or NATS_NKEY_SEED_FILE, NATS_INBOX_PREFIX
                                       the identity: a <role>.env file of idm nats-config sets them,
                                       or give it to any command with --env-file <role>.env
  NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE
  IDM_STREAM                           the event stream (default IDM_EVENTS)
  DATABASE_URL, DATA_DIR, DATABASE_SCHEMA
                                       replay only: the app's database, as the app reads them
  NO_COLOR                             no colours even on a terminal

Roles: password set needs password-writer (or admin); every other command that connects needs admin.
Exit codes: 0 done, 1 failed (unreachable, refused, not found), 2 usage error.
Run idm <command> --help for a command's options, idm publish <type> --help for an event's fields.`;

/**
 * The whole `idm` command tree. Parsing only: nothing connects until a command's action runs, so
 * specs can walk it, and the completion scripts and the README's help are generated from it.
 * Errors do not exit the process: they are thrown as `CommanderError`s for `main` to report.
 * `output` replaces where help and usage text go (specs keep it off the terminal).
 */
export function buildProgram(output: Partial<OutputConfiguration> = {}): Command {
  const program = new Command('idm')
    .description('Operate idm-events: publish events, set passwords, follow the log, inspect and repair (dead letters, replay).')
    .version(appVersion(), '-V, --version', 'print the idm-events version')
    .exitOverride()
    // main prints errors as one `idm: …` line.
    .configureOutput({ outputError: () => undefined, ...output })
    .showSuggestionAfterError()
    .addHelpText('after', ENVIRONMENT);
  for (const add of [
    publishCommand,
    passwordCommand,
    tailCommand,
    statusCommand,
    userCommand,
    dlqCommand,
    schedulesCommand,
    replayCommand,
    setupCommand,
    natsConfigCommand,
    completionCommand,
  ])
    add(program);
  return program;
}
