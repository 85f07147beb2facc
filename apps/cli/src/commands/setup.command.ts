import { errorMessage } from '@idm/config';
import { ensureDeadLetterStream, ensureEventStream, isPermissionViolation, MessagingSetupError } from '@idm/messaging';
import { CliError } from '../cli-error.js';
import type { Command } from 'commander';
import { connecting, outputOf, type ConnectingOptions } from '../command.js';
import { openSession } from '../nats-session.js';

/**
 * `idm setup`: creates the event stream and `<stream>_DLQ`, or brings them up to date
 * (idempotent; `IDM_STREAM_REPLICAS` applies). Run it with the admin identity before the apps
 * start: the app roles of `idm nats-config` may read stream info but not create streams. Each
 * app then creates its own durable consumers at start (its role may manage those and no others).
 */
export function setupCommand(program: Command): void {
  connecting(
    program.command('setup').description('create or update the event and dead-letter streams (admin identity; run before the apps start)'),
  ).action((options: ConnectingOptions) => setup(options));
}

async function setup(options: ConnectingOptions): Promise<void> {
  const out = outputOf(options);
  const session = await openSession(options);
  const stream = session.streamSettings;
  try {
    const rows: Array<Record<string, unknown>> = [];
    for (const [what, ensure] of [
      ['event log', ensureEventStream],
      ['dead letters', ensureDeadLetterStream],
    ] as const) {
      let result;
      try {
        result = await ensure(session.jsm, stream);
      } catch (err) {
        if (isPermissionViolation(err) || err instanceof MessagingSetupError) {
          throw new CliError(
            `this NATS identity may not manage streams: run idm setup with the admin role's NATS_NKEY_SEED_FILE (${errorMessage(err)})`,
            'IDM_CLI_REFUSED',
            { cause: err },
          );
        }
        throw new CliError(`cannot set up the ${what} stream: ${errorMessage(err)}`, 'IDM_CLI_FAILED', { cause: err });
      }
      rows.push({
        stream: result.info.config.name,
        role: what,
        action: result.action,
        replicas: result.info.config.num_replicas,
        subjects: (result.info.config.subjects ?? []).join(' '),
      });
    }
    out.data({ ok: true, streams: rows });
    out.heading('streams');
    out.table(rows, ['stream', 'role', 'action', 'replicas', 'subjects']);
  } finally {
    await session.close();
  }
}
