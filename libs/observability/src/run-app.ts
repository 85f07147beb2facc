import { Logger as NestLogger } from '@nestjs/common';
import { commonEnv, errorMessage, readEnv } from '@idm/config';
import { createLogger, type Logger } from './logger.js';
import { PinoNestLogger } from './nest-logger.js';

/** The loggers of a running app: pino (metrics observers), the Nest adapter (Nest itself), a context logger. */
export interface AppLogging {
  readonly pino: Logger;
  readonly nestLogger: PinoNestLogger;
  readonly logger: NestLogger;
}

/** How one app starts; the order around it is {@link runApp}'s. */
export interface AppStart<C> {
  /** The `app` field of every log line, e.g. `notifier`. */
  readonly app: string;
  /** The Nest logger context of the start-up lines, e.g. `Notifier`. */
  readonly context: string;
  /**
   * Reads and checks everything the app needs before anything connects (`read<App>Config`,
   * messaging, health port, templates…). A throw stops the start with its message alone.
   */
  configure(): C;
  /** Builds and starts the app with what `configure` returned; resolves once it is ready. */
  start(config: C, logging: AppLogging): Promise<void>;
}

/**
 * The start of every app's `main.ts`: logging from `LOG_LEVEL` (pino, also for Nest's own lines),
 * then `configure`, then `start`. Invalid configuration logs its message alone (a stack would only
 * hide it; the messages never hold a secret) and sets exit code 1 without connecting anything. A
 * failure later in the start logs `start failed: <message>` and exits with 1.
 */
export async function runApp<C>(
  spec: AppStart<C>,
  options: { readonly env?: NodeJS.ProcessEnv; readonly exit?: (code: number) => void } = {},
): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  try {
    const pino = createLogger({ app: spec.app, level: readEnv({ LOG_LEVEL: commonEnv.LOG_LEVEL }, options.env).LOG_LEVEL });
    const nestLogger = new PinoNestLogger(pino);
    NestLogger.overrideLogger(nestLogger);
    const logger = new NestLogger(spec.context);
    let config: C;
    try {
      config = spec.configure();
    } catch (err) {
      logger.error(errorMessage(err));
      process.exitCode = 1;
      return;
    }
    await spec.start(config, { pino, nestLogger, logger });
  } catch (err) {
    new NestLogger(spec.context).error(`start failed: ${errorMessage(err)}`);
    exit(1);
  }
}
