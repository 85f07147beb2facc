import { ALL_EVENT_TYPES, eventNameOf, isEventType, keyFilter, typeFilter, type EventType } from '@idm/contracts';
import { OperationsError } from './errors.js';

const kebab = (s: string): string => s.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

/** Every event type's short name as operators type it (`user-added`, `password-sync-failed`, …). */
export function eventTypeNames(): string[] {
  return ALL_EVENT_TYPES.map((t) => kebab(eventNameOf(t)));
}

/** `user-added`, `UserAdded` or `idm.user.added` → the event type; undefined when no type matches. */
export function findEventType(name: string): EventType | undefined {
  if (isEventType(name)) return name;
  const compact = name.replace(/[-_.]/g, '').toLowerCase();
  return ALL_EVENT_TYPES.find((t) => eventNameOf(t).toLowerCase() === compact);
}

/**
 * A tail filter → a subject filter: an event type or name, `user:<id>`, or a raw subject pattern
 * (`idm.…`). Empty → undefined (everything). Shared by `idm tail` and the console's live tail.
 * @throws OperationsError `IDM_OPS_USAGE` for an unknown type name.
 */
export function tailFilter(arg: string | undefined): string | undefined {
  if (!arg) return undefined;
  if (arg.startsWith('user:')) return keyFilter(arg.slice(5));
  if (arg.startsWith('idm.') && !isEventType(arg)) return arg;
  const type = findEventType(arg);
  if (!type) throw new OperationsError(`unknown event type ${JSON.stringify(arg)}; one of: ${eventTypeNames().join(', ')}`, 'IDM_OPS_USAGE');
  return typeFilter(type);
}
