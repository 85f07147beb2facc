import { Command } from 'commander';
import {
  ALL_EVENT_TYPES,
  createEvent,
  eventDataSchemas,
  eventNameOf,
  eventSubjectFields,
  EventTypes,
  type EventType,
  type IdmEvent,
} from '@idm/contracts';
import { EventPublisher } from '@idm/messaging';
import { eventTypeNames, findEventType } from '@idm/operations';
import { CliError, usage } from '../cli-error.js';
import { connecting, isoTime, type ConnectingOptions } from '../command.js';
import { openSession } from '../nats-session.js';
import { eventDescription, eventFields, explainIssues, fieldHelp, fieldValue, kebab, type EventField } from '../publish/event-fields.js';

/**
 * Types only an app may state: they record what an app did (sent an email, applied a password,
 * fired a schedule). Appended by hand, they would clear a pending email or a cached password
 * with nothing having happened. `PasswordChanged` goes through `idm password set`.
 */
export const APP_ONLY_TYPES: ReadonlySet<EventType> = new Set([
  EventTypes.EmailQueued,
  EventTypes.EmailSent,
  EventTypes.EmailFailed,
  EventTypes.EmailAbandoned,
  EventTypes.PasswordChanged,
  EventTypes.PasswordSynced,
  EventTypes.PasswordSyncFailed,
  EventTypes.PasswordExpired,
  EventTypes.BulkTaskTick,
]);

/** `user-added`, `UserAdded` or `idm.user.added` → the event type; a usage error otherwise. */
export function resolveEventType(name: string): EventType {
  const type = findEventType(name);
  if (!type) throw usage(`unknown event type ${JSON.stringify(name)}; one of: ${eventTypeNames().join(', ')}`);
  return type;
}

/** The flags of `idm publish <type>` besides the data fields. */
interface PublishOptions extends ConnectingOptions {
  readonly data?: string;
  readonly subject?: string;
  readonly id?: string;
  readonly time?: Date;
  readonly force?: boolean;
  readonly [field: string]: unknown;
}

/**
 * `idm publish <type> --<field> value … [--data JSON] [--subject S] [--id ID] [--time ISO]`: one
 * subcommand per event type, whose flags are the type's data fields in kebab case (`--user-id`,
 * `--email-type`), read from the contracts' schemas ({@link eventFields}). The data is validated
 * by `@idm/contracts` before anything is sent, so a bad flag never reaches the log. Types in
 * {@link APP_ONLY_TYPES} are refused without `--force`; with `idm nats-config` permissions only the
 * admin identity could append them anyway.
 */
export function publishCommand(program: Command): void {
  const publish = program
    .command('publish')
    .description('append one event to the log, validated against its schema first (idm publish <type> --help lists its fields)')
    .usage('<type> --<field> <value> …')
    // Other spellings of a type (user_added, useradded) land here and are dispatched to the type.
    .allowUnknownOption()
    .allowExcessArguments()
    .helpCommand(false)
    .action(async (_options: unknown, self: Command) => {
      const [name, ...rest] = self.args;
      if (!name) throw usage(`give an event type: idm publish <type> --help; one of: ${eventTypeNames().join(', ')}`);
      const type = resolveEventType(name);
      const sub = publish.commands.find((c) => c.name() === kebab(eventNameOf(type)));
      if (!sub) throw usage(`unknown event type ${JSON.stringify(name)}`);
      await sub.parseAsync(rest, { from: 'user' });
    });
  for (const type of ALL_EVENT_TYPES) publishTypeCommand(publish, type);
}

function publishTypeCommand(publish: Command, type: EventType): void {
  const fields = eventFields(type);
  const keyField = eventSubjectFields[type];
  const appOnly = APP_ONLY_TYPES.has(type);
  const command = publish
    .command(kebab(eventNameOf(type)))
    .aliases([eventNameOf(type), type])
    .summary(`${type}${appOnly ? ' (stated by an app: needs --force)' : ''}`)
    .description(`Append ${eventNameOf(type)} (${type}). ${eventDescription(type)}`);
  for (const field of fields) command.option(`--${field.flag} <value>`, fieldHelp(field));
  command
    .option('--data <json>', 'the data fields as one JSON object; field flags override its values')
    .option('--subject <key>', `the CloudEvents subject (default: the ${keyField} field, which it must equal)`)
    .option('--id <id>', 'the event id (default: a new one); the same id twice is stored once')
    .option('--time <time>', 'the event time, ISO-8601 (default: now)', isoTime);
  if (appOnly) command.option('--force', 'append a type that only an app states (repairs only)');
  connecting(command).action((options: PublishOptions) => publishEvent(type, fields, options));
}

/** The data from `--data` and the field flags; a flag that cannot be its field's kind fails naming it. */
function dataOf(fields: readonly EventField[], options: PublishOptions): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (options.data !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(options.data);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw usage(`--data: expected a JSON object, e.g. '{"userId":"ada"}', got ${JSON.stringify(options.data)}`);
    Object.assign(data, parsed);
  }
  for (const field of fields) {
    // commander camel-cases flags: --user-id → userId, the field's own name.
    const raw = options[field.name];
    if (typeof raw === 'string') data[field.name] = fieldValue(field, raw);
  }
  return data;
}

async function publishEvent(type: EventType, fields: readonly EventField[], options: PublishOptions): Promise<void> {
  if (APP_ONLY_TYPES.has(type) && !options.force) {
    const hint = type === EventTypes.PasswordChanged ? 'use `idm password set`, or ' : '';
    throw new CliError(
      `${eventNameOf(type)} is stated only by the app that did the work; ${hint}add --force to append it anyway (repairs only)`,
      'IDM_CLI_REFUSED',
    );
  }
  const data = dataOf(fields, options);
  const checked = eventDataSchemas[type].safeParse(data);
  if (!checked.success) throw usage(`invalid ${eventNameOf(type)}: ${explainIssues(fields, data, checked.error.issues)}`);
  let event: IdmEvent;
  try {
    const subject = options.subject ?? String(data[eventSubjectFields[type]]);
    event = createEvent(type, subject, data as never, {
      source: '/idm/cli',
      time: options.time ?? new Date(),
      ...(options.id ? { id: options.id } : {}),
    }) as IdmEvent;
  } catch (err) {
    throw usage(`invalid ${eventNameOf(type)}: ${(err as Error).message}`);
  }
  const session = await openSession(options);
  try {
    const receipt = await new EventPublisher(session.js, { attempts: 1 }).publish(event);
    if (options.json)
      process.stdout.write(
        JSON.stringify({ ok: true, id: event.id, type: event.type, seq: receipt.seq, duplicate: receipt.duplicate }, null, 2) + '\n',
      );
    else
      process.stdout.write(
        `published ${event.type} ${event.id} at seq ${receipt.seq}${receipt.duplicate ? ' (duplicate, not stored again)' : ''}\n`,
      );
  } catch (err) {
    throw new CliError(`publish failed: ${(err as Error).message}`, 'IDM_CLI_FAILED', { cause: err });
  } finally {
    await session.close();
  }
}
