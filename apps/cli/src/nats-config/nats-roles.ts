import { CommandSubjects, EventTypes } from '@idm/contracts';
import { DEAD_LETTER_SUBJECT_PREFIX, deadLetterStreamName, REPLAY_PROGRESS_PREFIX } from '@idm/messaging';

/**
 * The NATS identities of idm-events. One per role, each allowed exactly its work:
 * - `scheduler`, `notifier`, `password-sync`, `directory-source`: the apps;
 * - `password-writer`: whatever submits password changes (the upstream IdM, `idm password set`);
 * - `password-connector`: the connector that applies passwords for `PASSWORD_TARGET=nats:<subject>`
 *   (receives them from password-sync and answers, nothing else);
 * - `subscriber`: a read-only service consuming through consumers the admin created;
 * - `console`: the operator console reading (status queries, stream and dead-letter reads, tails);
 *   its actions (retry, drop, fire) use an admin identity (`CONSOLE_ACTIONS_NKEY_SEED_FILE`);
 * - `admin`: the operator's CLI (`idm setup`, status, dead letters, replay, tail, publish).
 */
export const NATS_ROLES = [
  'admin',
  'scheduler',
  'notifier',
  'password-sync',
  'directory-source',
  'password-writer',
  'password-connector',
  'subscriber',
  'console',
] as const;

/** One of {@link NATS_ROLES}. */
export type NatsRole = (typeof NATS_ROLES)[number];

/** The durable consumers each app creates at start (the apps' `*.tokens.ts`; apps are not imported here). */
export const APP_CONSUMERS = {
  scheduler: [],
  notifier: ['notifier', 'notifier-ticks'],
  'password-sync': ['password-sync'],
  'directory-source': [],
} as const satisfies Record<string, readonly string[]>;

/** What the permissions depend on. */
export interface RoleSettings {
  /** `IDM_STREAM`; the dead-letter stream is `<stream>_DLQ`. */
  readonly stream: string;
  /** Subjects password-sync may send passwords to (`PASSWORD_TARGET=nats:<subject>`). */
  readonly connectorSubjects: readonly string[];
  /** Durable consumers (created by the admin) the `subscriber` role may read through. */
  readonly subscriberConsumers: readonly string[];
}

/** Publish and subscribe allow-lists of one role (everything else is denied by the server). */
export interface RolePermissions {
  readonly role: NatsRole;
  readonly description: string;
  /** Reply subjects of this role: `NATS_INBOX_PREFIX` of its clients. */
  readonly inboxPrefix: string;
  readonly publish: readonly string[];
  /** Exceptions to `publish` (the server applies deny over allow); empty for most roles. */
  readonly publishDeny?: readonly string[];
  readonly subscribe: readonly string[];
  /** May answer requests it received (publish once to their reply subject): responders only. */
  readonly allowResponses: boolean;
}

const API = '$JS.API';

/** The inbox prefix of a role: `_INBOX.<role>`; only that role may subscribe below it. */
export function inboxPrefixOf(role: NatsRole): string {
  return `_INBOX.${role}`;
}

/** Subjects under which an event type is stored: `<type>.*` (the key is the last token). */
const eventsOf = (...types: readonly string[]): string[] => types.map((t) => `${t}.*`);

/**
 * JetStream API a service needs to use (and create or update) its own durable pull consumer,
 * and nothing on anyone else's: the consumer name is a token of each API subject. Both the 2.9
 * form (`CONSUMER.DURABLE.CREATE.<stream>.<name>`) and the 2.9.0+/2.10 forms
 * (`CONSUMER.CREATE.<stream>.<name>[.<filter>]`) are listed; nats.js picks one by server version
 * and by the number of filters.
 */
function ownConsumer(stream: string, name: string, manage: boolean): string[] {
  const use = [
    `${API}.CONSUMER.INFO.${stream}.${name}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${name}`,
    // Acks (and nak / working / term): the reply subject of each delivery. 2.9–2.12 send
    // `$JS.ACK.<stream>.<consumer>.…`; the version 2 form of ADR-15 (opt-in from 2.14) puts a
    // domain and an account-hash token first.
    `$JS.ACK.${stream}.${name}.>`,
    `$JS.ACK.*.*.${stream}.${name}.>`,
  ];
  if (!manage) return use;
  return [
    ...use,
    `${API}.CONSUMER.CREATE.${stream}.${name}`,
    `${API}.CONSUMER.CREATE.${stream}.${name}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.${name}`,
    // nats-server 2.9 cannot change a filter in place: ensureConsumer recreates the consumer.
    `${API}.CONSUMER.DELETE.${stream}.${name}`,
    // Dead-letter records of this consumer (stored in <stream>_DLQ, acknowledged).
    `${DEAD_LETTER_SUBJECT_PREFIX}.${name}`,
  ];
}

/** What every app does on the log: account info (jetstreamManager), stream info (provisioning check). */
function appBase(stream: string): string[] {
  return [`${API}.INFO`, `${API}.STREAM.INFO.${stream}`, `${API}.STREAM.INFO.${deadLetterStreamName(stream)}`];
}

/** The permissions of one role. Pure: the same settings give the same lists. */
export function rolePermissions(role: NatsRole, settings: RoleSettings): RolePermissions {
  const s = settings.stream;
  const inbox = inboxPrefixOf(role);
  const replies = `${inbox}.>`;
  const app = (publish: string[], consumers: readonly string[], answers: string[], description: string): RolePermissions => ({
    role,
    description,
    inboxPrefix: inbox,
    publish: [...appBase(s), ...publish, ...consumers.flatMap((c) => ownConsumer(s, c, true))],
    subscribe: [replies, ...answers],
    allowResponses: answers.length > 0,
  });
  switch (role) {
    case 'admin':
      return {
        role,
        description: 'operator CLI: idm setup, status, dlq, replay, tail, publish; everything',
        inboxPrefix: inbox,
        publish: ['>'],
        subscribe: ['>'],
        allowResponses: true,
      };
    case 'scheduler':
      return app(
        // The last tick of each schedule is read back by subject (STREAM.MSG.GET).
        [...eventsOf(EventTypes.BulkTaskTick), `${API}.STREAM.MSG.GET.${s}`],
        APP_CONSUMERS.scheduler,
        [CommandSubjects.SchedulerList, CommandSubjects.SchedulerFire],
        'appends BulkTaskTick, answers idm.cmd.scheduler.list|fire',
      );
    case 'notifier':
      return app(
        eventsOf(EventTypes.EmailQueued, EventTypes.EmailSent, EventTypes.EmailFailed, EventTypes.EmailAbandoned),
        APP_CONSUMERS.notifier,
        [CommandSubjects.NotifierStatus, CommandSubjects.NotifierUser, CommandSubjects.NotifierPreview],
        'appends idm.email.*, consumes through notifier and notifier-ticks',
      );
    case 'password-sync':
      return app(
        [
          ...eventsOf(EventTypes.PasswordChanged, EventTypes.PasswordSynced, EventTypes.PasswordSyncFailed, EventTypes.PasswordExpired),
          ...settings.connectorSubjects,
        ],
        APP_CONSUMERS['password-sync'],
        [CommandSubjects.PasswordChange, CommandSubjects.PasswordSyncStatus, CommandSubjects.PasswordSyncUser],
        'appends idm.password.*, answers idm.cmd.password.change, sends to the connector',
      );
    case 'directory-source':
      return app(
        eventsOf(EventTypes.UserAdded, EventTypes.UserModified, EventTypes.UserRemoved),
        APP_CONSUMERS['directory-source'],
        [CommandSubjects.DirectorySourceStatus],
        'appends idm.user.*, answers idm.cmd.directory-source.status',
      );
    case 'password-writer':
      return {
        role,
        description: 'submits password changes (upstream IdM, idm password set)',
        inboxPrefix: inbox,
        publish: [CommandSubjects.PasswordChange],
        subscribe: [replies],
        allowResponses: false,
      };
    case 'password-connector':
      return {
        role,
        description: `applies passwords sent by password-sync on ${settings.connectorSubjects.join(', ')} and answers`,
        inboxPrefix: inbox,
        publish: [],
        subscribe: [replies, ...settings.connectorSubjects],
        allowResponses: true,
      };
    case 'subscriber':
      return {
        role,
        description: `read-only: consumes through ${settings.subscriberConsumers.join(', ') || 'no consumer'} (created by the admin), never creates consumers, never publishes`,
        inboxPrefix: inbox,
        publish: [`${API}.INFO`, `${API}.STREAM.INFO.${s}`, ...settings.subscriberConsumers.flatMap((c) => ownConsumer(s, c, false))],
        subscribe: [replies],
        allowResponses: false,
      };
    case 'console':
      return {
        role,
        description:
          'operator console, read-only: asks the apps (status, user, preview, schedules list), reads the stream and dead letters through ephemeral ordered consumers; no fire, no publish, no delete',
        inboxPrefix: inbox,
        publish: [
          ...appBase(s),
          `${API}.CONSUMER.LIST.${s}`,
          `${API}.STREAM.MSG.GET.${deadLetterStreamName(s)}`,
          // Ordered consumers (tails, timelines): ephemeral, named by the client. 2.9 creates them
          // on CONSUMER.CREATE.<stream>, 2.10+ on CONSUMER.CREATE.<stream>.<name>[.<filter>]; a
          // subject cannot tell an ephemeral from a durable there (docs/security.md).
          `${API}.CONSUMER.CREATE.${s}`,
          `${API}.CONSUMER.CREATE.${s}.>`,
          `${API}.CONSUMER.INFO.${s}.*`,
          `${API}.CONSUMER.MSG.NEXT.${s}.*`,
          CommandSubjects.NotifierStatus,
          CommandSubjects.NotifierUser,
          CommandSubjects.NotifierPreview,
          CommandSubjects.PasswordSyncStatus,
          CommandSubjects.PasswordSyncUser,
          CommandSubjects.SchedulerList,
          CommandSubjects.DirectorySourceStatus,
        ],
        // Never the apps' or the subscribers' durable consumers: no reading their deliveries away,
        // no changing them. (An ephemeral consumer of its own it needs; that is all it can create.)
        publishDeny: [...Object.values(APP_CONSUMERS).flat(), ...settings.subscriberConsumers].flatMap((c) => [
          `${API}.CONSUMER.*.${s}.${c}`,
          `${API}.CONSUMER.*.${s}.${c}.>`,
          `${API}.CONSUMER.MSG.NEXT.${s}.${c}`,
          `${API}.CONSUMER.DURABLE.CREATE.${s}.${c}`,
        ]),
        // Running replays announce their progress there (core NATS, never stored).
        subscribe: [replies, `${REPLAY_PROGRESS_PREFIX}.*`],
        allowResponses: false,
      };
  }
}
