import { errorMessage } from '@idm/config';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { EventTypes, emailType as emailTypeSchema, type EventName } from '@idm/contracts';

/**
 * Events an email rule may react to. The notifier's own `idm.email.*` events and ticks are
 * excluded: a rule on them would make the notifier mail about its own mail.
 */
export const NOTIFIABLE_EVENT_TYPES = [
  EventTypes.UserAdded,
  EventTypes.UserModified,
  EventTypes.PasswordChanged,
  EventTypes.PasswordSynced,
  EventTypes.PasswordSyncFailed,
  EventTypes.PasswordExpired,
] as const;

/** An event type that email rules can map to email types. */
export type NotifiableEventType = (typeof NOTIFIABLE_EVENT_TYPES)[number];

/** Event type → the email types it raises (several allowed; an empty list raises none). */
export type EmailRules = Readonly<Partial<Record<NotifiableEventType, readonly string[]>>>;

/** The rules of the issue; overrides are merged over these per event. */
export const DEFAULT_EMAIL_RULES: EmailRules = {
  [EventTypes.UserAdded]: ['NEW_USER'],
  [EventTypes.UserModified]: ['PROFILE_CHANGED'],
  [EventTypes.PasswordChanged]: ['PASSWORD_CHANGED'],
  [EventTypes.PasswordSyncFailed]: ['PASSWORD_SYNC_FAILED'],
};

/** Raised at start when `EMAIL_RULES` / `EMAIL_RULES_FILE` cannot be used; names the offending entry. */
export class EmailRulesError extends Error {
  override readonly name = 'EmailRulesError';
  readonly code = 'IDM_NOTIFIER_EMAIL_RULES_INVALID';
}

/** Where rule overrides come from. */
export interface EmailRulesSource {
  /** Inline JSON, e.g. `{"UserModified": [], "PasswordExpired": "PASSWORD_EXPIRED"}`. */
  readonly EMAIL_RULES?: string | undefined;
  /** Path of a JSON or YAML file with the same shape. */
  readonly EMAIL_RULES_FILE?: string | undefined;
}

/**
 * The effective rules: the defaults, with each event named in the override replaced.
 * Keys are event names (`UserAdded`) or types (`idm.user.added`); values an email type, a list of
 * them, or `[]`/`null` to switch an event off.
 * @throws EmailRulesError for both sources at once, unreadable input, unknown events or bad email types.
 */
export function loadEmailRules(source: EmailRulesSource, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): EmailRules {
  if (source.EMAIL_RULES && source.EMAIL_RULES_FILE) throw new EmailRulesError('set EMAIL_RULES or EMAIL_RULES_FILE, not both');
  let raw: unknown;
  if (source.EMAIL_RULES) {
    try {
      raw = JSON.parse(source.EMAIL_RULES);
    } catch (cause) {
      throw new EmailRulesError(`EMAIL_RULES is not JSON: ${errorMessage(cause)}`, { cause });
    }
  } else if (source.EMAIL_RULES_FILE) {
    try {
      raw = parseYaml(readFile(source.EMAIL_RULES_FILE));
    } catch (cause) {
      throw new EmailRulesError(`EMAIL_RULES_FILE ${source.EMAIL_RULES_FILE} cannot be read: ${errorMessage(cause)}`, { cause });
    }
  } else {
    return DEFAULT_EMAIL_RULES;
  }
  return { ...DEFAULT_EMAIL_RULES, ...parseOverrides(raw) };
}

function parseOverrides(raw: unknown): EmailRules {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new EmailRulesError('email rules must be an object of event → email type(s)');
  const out: Partial<Record<NotifiableEventType, readonly string[]>> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const type = notifiableTypeOf(key);
    if (!type) {
      problems.push(`${key}: not an event an email can be raised for (use one of ${NOTIFIABLE_EVENT_TYPES.join(', ')})`);
      continue;
    }
    const list = value === null ? [] : typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((t): t is string => typeof t === 'string')) {
      problems.push(`${key}: must be an email type, a list of email types, or null`);
      continue;
    }
    const bad = list.filter((t) => !emailTypeSchema.safeParse(t).success);
    if (bad.length > 0) problems.push(`${key}: email types must be UPPER_SNAKE_CASE (got ${bad.map((b) => JSON.stringify(b)).join(', ')})`);
    else out[type] = [...new Set(list)];
  }
  if (problems.length > 0) throw new EmailRulesError(`invalid email rules:\n  - ${problems.join('\n  - ')}`);
  return out;
}

function notifiableTypeOf(key: string): NotifiableEventType | undefined {
  const type = key in EventTypes ? EventTypes[key as EventName] : key;
  return (NOTIFIABLE_EVENT_TYPES as readonly string[]).includes(type) ? (type as NotifiableEventType) : undefined;
}

/** Every email type some rule can raise; each needs a template. */
export function emailTypesOf(rules: EmailRules): readonly string[] {
  return [...new Set(Object.values(rules).flatMap((types) => types ?? []))].sort();
}

/** The email types an event raises under `rules` (none for events without a rule). */
export function emailTypesFor(rules: EmailRules, eventType: string): readonly string[] {
  return (NOTIFIABLE_EVENT_TYPES as readonly string[]).includes(eventType) ? (rules[eventType as NotifiableEventType] ?? []) : [];
}
