import type { LoggerService, LogLevel } from '@nestjs/common';
import type { Logger } from 'pino';

/**
 * Nest's own start-up contexts: one line per module, route and controller at every start. They say
 * nothing an operator acts on, so they go to `debug` and `npm start` shows one ready line per app.
 */
const BOOTSTRAP_CONTEXTS: ReadonlySet<string> = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestMicroservice',
  'NestApplication',
]);

/**
 * Routes Nest's own logs (`new Logger(context).log(...)`, framework start-up lines) through pino,
 * so every line of an app is one JSON object with the same redaction. Nest's `context` becomes
 * the `context` field; an error's stack becomes `stack`. Nest's bootstrap lines (`InstanceLoader`,
 * `RouterExplorer`, …) are written at `debug`, not `info`.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest.at(-1);
    this.write(typeof context === 'string' && BOOTSTRAP_CONTEXTS.has(context) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    // Nest passes (message, stack?, context?).
    const context = typeof rest.at(-1) === 'string' && rest.length >= 1 ? rest.at(-1) : undefined;
    const stack = rest.length >= 2 && typeof rest[0] === 'string' ? rest[0] : undefined;
    this.emit('error', message, { ...(context ? { context } : {}), ...(stack ? { stack } : {}) });
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }
  /** Levels are pino's to filter (`LOG_LEVEL`); Nest's list is ignored. */
  setLogLevels(_levels: LogLevel[]): void {}

  private write(level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, rest: unknown[]): void {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    this.emit(level, message, context ? { context } : {});
  }

  private emit(level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal' | 'error', message: unknown, fields: Record<string, unknown>): void {
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'string') this.logger[level](fields, message);
    else this.logger[level]({ ...fields, data: message }, '');
  }
}
