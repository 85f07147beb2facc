import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { STREAM_SUBJECTS } from '@idm/contracts';
import { isPermissionViolation, MessagingSetupError, permissionViolationOf } from './errors.js';

/** The settings idm-events owns on its streams. Everything else is the operator's to tune. */
export interface EventStreamSettings {
  /** Stream name, `IDM_STREAM` (default `IDM_EVENTS`). */
  readonly name: string;
  /** Replicas (1 locally, 3 in a cluster). Applied at creation, and on update only when given explicitly. */
  readonly replicas?: number;
  /** JetStream duplicate window (ms) for `Nats-Msg-Id` dedupe. Default 10 minutes. */
  readonly duplicateWindowMs?: number;
  /** Largest event accepted, bytes. Default 1 MiB. */
  readonly maxMsgSize?: number;
}

/** What {@link ensureEventStream} did. */
export interface ProvisionResult {
  readonly action: 'created' | 'updated' | 'unchanged';
  readonly info: StreamInfo;
}

/** Defaults applied only when a stream is created. */
export const EVENT_STREAM_DEFAULTS = { duplicateWindowMs: 10 * 60_000, maxMsgSize: 1024 * 1024, replicas: 1 } as const;

function isNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

/**
 * Creates the event-log stream, or brings an existing one up to date — idempotently.
 *
 * On creation: file storage, limits retention with no age or size limit (it is the log),
 * discard new (a full stream refuses writes rather than silently dropping history),
 * the duplicate window, max message size and replicas from `settings`, direct get on.
 * On an existing stream it only adds missing idm subjects (never removes others) and changes
 * replicas if `settings.replicas` was given; every other setting an operator changed is kept.
 * With an identity that may only read stream info (every app role of `idm nats-config`), an
 * up-to-date stream is left alone and a missing or outdated one fails with
 * {@link MessagingSetupError} telling the operator to run `idm setup`. Works on nats-server 2.9+.
 */
export async function ensureEventStream(jsm: JetStreamManager, settings: EventStreamSettings): Promise<ProvisionResult> {
  return ensureStream(jsm, settings, [...STREAM_SUBJECTS], 'idm-events: the event log');
}

/**
 * Creates or updates the dead-letter stream `<stream>_DLQ` capturing `idm.dlq.>`: records of
 * messages a consumer terminated (reason, subject, stream sequence, payload), kept for
 * inspection and replay by operators. Same ownership rules as {@link ensureEventStream}.
 */
export async function ensureDeadLetterStream(jsm: JetStreamManager, settings: EventStreamSettings): Promise<ProvisionResult> {
  return ensureStream(
    jsm,
    { ...settings, name: deadLetterStreamName(settings.name) },
    [DEAD_LETTER_SUBJECT_PREFIX + '.>'],
    'idm-events: dead letters',
  );
}

/** Subject prefix of dead-letter records: `idm.dlq.<consumer>`. */
export const DEAD_LETTER_SUBJECT_PREFIX = 'idm.dlq';

/** The dead-letter stream that goes with an event stream. */
export function deadLetterStreamName(eventStream: string): string {
  return `${eventStream}_DLQ`;
}

async function ensureStream(
  jsm: JetStreamManager,
  settings: EventStreamSettings,
  subjects: string[],
  description: string,
): Promise<ProvisionResult> {
  let existing: StreamInfo | undefined;
  try {
    existing = await jsm.streams.info(settings.name);
  } catch (err) {
    const refused = permissionViolationOf(err);
    if (refused) {
      throw new MessagingSetupError(
        refused.operation === 'subscription'
          ? `this NATS identity may not receive replies on ${refused.subject}: set NATS_INBOX_PREFIX to its role's prefix (_INBOX.<role>, in the role's .env file from idm nats-config)`
          : `this NATS identity may not read stream ${settings.name}: does IDM_STREAM match the stream its permissions were generated for (idm nats-config --stream)?`,
        { cause: err },
      );
    }
    if (!isNotFound(err)) throw err;
  }
  if (!existing) {
    const config: Partial<StreamConfig> & { name: string } = {
      name: settings.name,
      description,
      subjects,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.New,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      max_msg_size: settings.maxMsgSize ?? EVENT_STREAM_DEFAULTS.maxMsgSize,
      duplicate_window: nanos(settings.duplicateWindowMs ?? EVENT_STREAM_DEFAULTS.duplicateWindowMs),
      num_replicas: settings.replicas ?? EVENT_STREAM_DEFAULTS.replicas,
      allow_direct: true,
    };
    try {
      return { action: 'created', info: await jsm.streams.add(config) };
    } catch (err) {
      if (isPermissionViolation(err)) throw notSetUp(`stream ${settings.name} does not exist`, err);
      // Another replica created it between our info and add: fall through to the update path.
      existing = await jsm.streams.info(settings.name).catch(() => {
        throw err;
      });
    }
  }
  const current = existing.config;
  const missing = subjects.filter((s) => !(current.subjects ?? []).includes(s));
  const replicasChange = settings.replicas !== undefined && settings.replicas !== current.num_replicas;
  if (missing.length === 0 && !replicasChange) return { action: 'unchanged', info: existing };
  let info: StreamInfo;
  try {
    info = await jsm.streams.update(settings.name, {
      ...current,
      subjects: [...(current.subjects ?? []), ...missing],
      ...(replicasChange ? { num_replicas: settings.replicas } : {}),
    });
  } catch (err) {
    const why =
      missing.length > 0
        ? `stream ${settings.name} lacks the subjects ${missing.join(', ')}`
        : `stream ${settings.name} has ${current.num_replicas} replicas, not ${settings.replicas}`;
    if (isPermissionViolation(err)) throw notSetUp(why, err);
    throw err;
  }
  return { action: 'updated', info };
}

function notSetUp(what: string, cause: unknown): MessagingSetupError {
  return new MessagingSetupError(`${what} and this NATS identity may not change streams: run \`idm setup\` with the admin identity first`, {
    cause,
  });
}
