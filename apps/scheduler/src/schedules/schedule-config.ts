import { errorMessage } from '@idm/config';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { compileCron, CronExpressionError } from './cron-calendar.js';
import { DEFAULT_SCHEDULE, type Schedule } from './schedule.js';

/** What was wrong with the schedule configuration. */
export type ScheduleConfigFault =
  | 'file-unreadable'
  | 'file-malformed'
  | 'field-invalid'
  | 'cron-invalid'
  | 'cron-never-fires'
  | 'timezone-invalid'
  | 'duplicate-name'
  | 'no-schedules'
  | 'override-without-schedule';

/**
 * Stops the start: the schedules cannot be trusted. The message names the schedule (when there is
 * one) and the fault, so an operator can fix the file without reading code.
 */
export class ScheduleConfigError extends Error {
  override readonly name = 'ScheduleConfigError';
  readonly code = 'IDM_SCHEDULE_CONFIG_INVALID';
  constructor(
    readonly fault: ScheduleConfigFault,
    readonly schedule: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(schedule === undefined ? `schedule configuration: ${detail}` : `schedule ${JSON.stringify(schedule)}: ${detail}`, options);
  }
}

/** The variables that shape the schedule list. */
export interface ScheduleSource {
  readonly SCHEDULES_FILE?: string | undefined;
  readonly EMAIL_RETRY_CRON?: string | undefined;
}

const scheduleEntry = z.object({
  name: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_.-]+$/, 'may only contain letters, digits, ., - and _'),
  cron: z.string().min(1),
  timezone: z.string().min(1).default('UTC'),
  task: z.string().min(1),
  enabled: z.boolean().default(true),
});
const scheduleFile = z.union([z.array(z.unknown()), z.object({ schedules: z.array(z.unknown()) })]);

/**
 * Reads and validates the schedules once, at start.
 * No file → the single `email-retry` schedule. `EMAIL_RETRY_CRON` replaces the expression of the
 * schedule named `email-retry`, wherever it comes from.
 * @throws ScheduleConfigError naming the schedule and the fault.
 */
export function loadSchedules(source: ScheduleSource, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): Schedule[] {
  if (source.SCHEDULES_FILE === undefined) return resolveSchedules([DEFAULT_SCHEDULE], source.EMAIL_RETRY_CRON);
  let text: string;
  try {
    text = readFile(source.SCHEDULES_FILE);
  } catch (cause) {
    throw new ScheduleConfigError(
      'file-unreadable',
      undefined,
      `cannot read SCHEDULES_FILE ${source.SCHEDULES_FILE}: ${errorMessage(cause)}`,
      { cause },
    );
  }
  return resolveSchedules(parseScheduleFile(text, source.SCHEDULES_FILE), source.EMAIL_RETRY_CRON);
}

/**
 * Parses YAML or JSON text (JSON is read as YAML 1.2, of which it is a subset): either a list of
 * schedules or `{ schedules: [...] }`. Entries get their defaults (`timezone: UTC`, `enabled: true`).
 */
export function parseScheduleFile(text: string, fileName = 'SCHEDULES_FILE'): Schedule[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new ScheduleConfigError('file-malformed', undefined, `${fileName} is not valid YAML/JSON: ${errorMessage(cause)}`, {
      cause,
    });
  }
  const file = scheduleFile.safeParse(doc);
  if (!file.success)
    throw new ScheduleConfigError(
      'file-malformed',
      undefined,
      `${fileName} must be a list of schedules or an object with a "schedules" list`,
    );
  const entries = Array.isArray(file.data) ? file.data : file.data.schedules;
  return entries.map((entry, index) => {
    const parsed = scheduleEntry.safeParse(entry);
    if (parsed.success) return parsed.data;
    const name =
      typeof entry === 'object' && entry !== null && typeof (entry as { name?: unknown }).name === 'string'
        ? (entry as { name: string }).name
        : `#${index + 1}`;
    const issue = parsed.error.issues[0]!;
    throw new ScheduleConfigError('field-invalid', name, `${issue.path.join('.') || 'entry'}: ${issue.message}`);
  });
}

/**
 * Applies `EMAIL_RETRY_CRON` and checks what a schema cannot: unique names, a known time zone,
 * and a cron expression croner accepts and that fires at least once.
 */
export function resolveSchedules(schedules: readonly Schedule[], emailRetryCron?: string): Schedule[] {
  if (schedules.length === 0) throw new ScheduleConfigError('no-schedules', undefined, 'no schedules are configured');
  const seen = new Set<string>();
  for (const s of schedules) {
    if (seen.has(s.name)) throw new ScheduleConfigError('duplicate-name', s.name, 'the name is used by more than one schedule');
    seen.add(s.name);
  }
  if (emailRetryCron !== undefined && !seen.has(DEFAULT_SCHEDULE.name)) {
    throw new ScheduleConfigError(
      'override-without-schedule',
      DEFAULT_SCHEDULE.name,
      'EMAIL_RETRY_CRON is set but the schedules file has no such schedule',
    );
  }
  const out = schedules.map((s) =>
    emailRetryCron !== undefined && s.name === DEFAULT_SCHEDULE.name ? { ...s, cron: emailRetryCron } : { ...s },
  );
  out.forEach(validateSchedule);
  return out;
}

function validateSchedule(s: Schedule): void {
  try {
    // Intl knows the IANA database Node ships with; croner alone would accept an unknown zone.
    new Intl.DateTimeFormat('en-US', { timeZone: s.timezone });
  } catch (cause) {
    throw new ScheduleConfigError('timezone-invalid', s.name, `unknown time zone ${JSON.stringify(s.timezone)}`, { cause });
  }
  let nextRun: Date | null;
  try {
    nextRun = compileCron(s.cron, s.timezone).nextRun(new Date(0));
  } catch (cause) {
    if (!(cause instanceof CronExpressionError)) throw cause;
    throw new ScheduleConfigError('cron-invalid', s.name, `invalid cron expression ${JSON.stringify(s.cron)}: ${cause.message}`, { cause });
  }
  if (nextRun === null) throw new ScheduleConfigError('cron-never-fires', s.name, `cron expression ${JSON.stringify(s.cron)} never fires`);
}
