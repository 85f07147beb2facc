import { createEvent, EventTypes, eventNameOf, type EventType, type IdmEvent } from '@idm/contracts';
import { EventPublisher } from '@idm/messaging';
import { eventTypeNames, findEventType } from '@idm/operations';
import { CliError, usage } from '../cli-error.js';
import { openSession } from '../nats-session.js';

/** Fields whose flag values are not strings. Everything else is passed as text. */
const NUMBER_FIELDS = new Set(['attempt', 'attempts']);
const BOOLEAN_FIELDS = new Set(['catchUp', 'permanent']);
const JSON_FIELDS = new Set(['changes', 'causationEvent']);

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

const kebab = (s: string): string => s.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function fieldValue(field: string, raw: string): unknown {
  if (raw === 'null') return null;
  if (NUMBER_FIELDS.has(field)) {
    if (!/^\d+$/.test(raw)) throw usage(`--${kebab(field)} must be a whole number, got ${JSON.stringify(raw)}`);
    return Number(raw);
  }
  if (BOOLEAN_FIELDS.has(field)) {
    if (raw !== 'true' && raw !== 'false') throw usage(`--${kebab(field)} must be true or false`);
    return raw === 'true';
  }
  if (JSON_FIELDS.has(field)) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw usage(`--${kebab(field)} must be JSON, e.g. '{"displayName":"Ada"}'`);
    }
  }
  return raw;
}

/**
 * `idm publish <type> --<field> value … [--data JSON] [--subject S] [--id ID] [--time ISO]`.
 * Field flags are the event's data fields in kebab case (`--user-id`, `--email-type`); the data is
 * validated by `@idm/contracts` before anything is sent, so a bad flag never reaches the log.
 * Types in {@link APP_ONLY_TYPES} are refused without `--force`; with `idm nats-config`
 * permissions only the admin identity could append them anyway.
 */
export async function publishCommand(argv: readonly string[]): Promise<number> {
  const [typeArg, ...rest] = argv;
  if (!typeArg || typeArg.startsWith('-'))
    throw usage(`usage: idm publish <type> --field value …; types: ${Object.keys(EventTypes).map(kebab).join(', ')}`);
  const type = resolveEventType(typeArg);
  const data: Record<string, unknown> = {};
  const stamp: { subject?: string; id?: string; time?: string } = {};
  let json = false;
  let force = false;
  let server: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    if (flag === '--json') {
      json = true;
      continue;
    }
    if (flag === '--force') {
      force = true;
      continue;
    }
    if (!flag.startsWith('--')) throw usage(`unexpected argument ${JSON.stringify(flag)}`);
    const [name, inline] = flag.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const value = inline ?? rest[++i];
    if (value === undefined) throw usage(`--${name} needs a value`);
    if (name === 'server') server = value;
    else if (name === 'data') {
      try {
        Object.assign(data, JSON.parse(value) as object);
      } catch {
        throw usage('--data must be a JSON object');
      }
    } else if (name === 'subject' || name === 'id' || name === 'time') stamp[name] = value;
    else data[camel(name)] = fieldValue(camel(name), value);
  }
  if (APP_ONLY_TYPES.has(type) && !force) {
    const hint = type === EventTypes.PasswordChanged ? 'use `idm password set`, or ' : '';
    throw new CliError(
      `${eventNameOf(type)} is stated only by the app that did the work; ${hint}add --force to append it anyway (repairs only)`,
      'IDM_CLI_REFUSED',
    );
  }
  let event: IdmEvent;
  try {
    const subject =
      stamp.subject ?? (typeof data.userId === 'string' ? data.userId : typeof data.schedule === 'string' ? data.schedule : undefined);
    if (subject === undefined) throw new Error('give --user-id (or --subject)');
    event = createEvent(type, subject, data as never, {
      source: '/idm/cli',
      time: stamp.time ?? new Date(),
      ...(stamp.id ? { id: stamp.id } : {}),
    }) as IdmEvent;
  } catch (err) {
    throw usage(`invalid ${eventNameOf(type)}: ${(err as Error).message}`);
  }
  const session = await openSession(server);
  try {
    const receipt = await new EventPublisher(session.js, { attempts: 1 }).publish(event);
    if (json)
      process.stdout.write(
        JSON.stringify({ ok: true, id: event.id, type: event.type, seq: receipt.seq, duplicate: receipt.duplicate }, null, 2) + '\n',
      );
    else
      process.stdout.write(
        `published ${event.type} ${event.id} at seq ${receipt.seq}${receipt.duplicate ? ' (duplicate, not stored again)' : ''}\n`,
      );
    return 0;
  } catch (err) {
    throw new CliError(`publish failed: ${(err as Error).message}`, 'IDM_CLI_FAILED', { cause: err });
  } finally {
    await session.close();
  }
}
