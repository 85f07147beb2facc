import { ALL_EVENT_TYPES, encodeSubjectKey, eventNameOf, isEventType, STREAM_SUBJECTS, typeFilter, type EventType } from '@idm/contracts';
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
 * The consumer filters matching every event about one key (user or schedule): one per stream
 * subject (`idm.user.*.<key>`, `idm.password.*.<key>`, …). A single `idm.*.*.<key>` is not a
 * subset of any one stream subject, which nats-server 2.9 requires of a consumer filter.
 */
export function keyFilters(key: string): string[] {
  const token = encodeSubjectKey(key);
  return STREAM_SUBJECTS.map((s) => s.replace(/>$/, `*.${token}`));
}

/**
 * A tail filter → consumer filters: an event type or name (one), `user:<id>` (one per stream
 * subject, see {@link keyFilters}), or a raw subject pattern (`idm.…`). Empty → `[]` (everything).
 * Shared by `idm tail` and the console's live tail.
 * @throws OperationsError `IDM_OPS_USAGE` for an unknown type name.
 */
export function tailFilters(arg: string | undefined): string[] {
  if (!arg) return [];
  if (arg.startsWith('user:')) return keyFilters(arg.slice(5));
  if (arg.startsWith('idm.') && !isEventType(arg)) return [arg];
  const type = findEventType(arg);
  if (!type)
    throw new OperationsError(`unknown event type ${JSON.stringify(arg)}; one of: ${eventTypeNames().join(', ')}`, 'IDM_OPS_USAGE');
  return [typeFilter(type)];
}
