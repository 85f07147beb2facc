import { pino, type DestinationStream, type Logger } from 'pino';
import { REDACTED, redactUrls } from '@idm/config';
import { REDACT_PATHS, scrubDeep } from './redact.js';

/** The log levels the apps accept in `LOG_LEVEL`. */
export type LogLevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The app name, written as `app` on every line. */
  readonly app: string;
  readonly level?: LogLevelName;
  /** Where lines go; default stdout. Specs pass a stream to read the output. */
  readonly destination?: DestinationStream;
}

/**
 * A pino logger writing one JSON object per line: `level` as a name, ISO `time`, `app`, `msg`,
 * plus the fields given (by convention `eventId`, `correlationId`, `consumer`, `type`).
 *
 * Secrets never reach the output: fields named like credentials ({@link REDACT_PATHS}) are
 * replaced with `[redacted]`, and every string — message and fields — has URL credentials
 * scrubbed (`smtp://user:***@host`).
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: options.app },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        // Runs before redaction; redaction then still applies to the scrubbed copy.
        log: (object) => scrubDeep(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redactUrls(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export type { Logger } from 'pino';
