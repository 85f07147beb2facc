import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, readEnv } from '@idm/config';

/** Environment variables of the console (documented in its README). */
export const consoleEnv = {
  CONSOLE_HOST: z.string().default('127.0.0.1'),
  CONSOLE_PORT: z.coerce.number().int().min(0).max(65_535).default(9110),
  CONSOLE_TOKEN: z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 24`)').optional(),
  CONSOLE_ALLOW_ACTIONS: z.enum(['true', 'false']).default('false'),
  CONSOLE_PUBLIC_DIR: z.string().optional(),
  CONSOLE_MAIL_DIR: z.string().optional(),
  CONSOLE_ACTIONS_NKEY_SEED_FILE: z.string().optional(),
};

/** The console's settings, read and checked once at start. */
export interface ConsoleConfig {
  readonly host: string;
  readonly port: number;
  /** Bearer token (or the login form's) every request needs; undefined only on loopback. */
  readonly token: string | undefined;
  /** Retry / drop dead letters and fire schedules; off unless `CONSOLE_ALLOW_ACTIONS=true`. */
  readonly allowActions: boolean;
  /** Where the browser files are (index.html, app.js, app.css). */
  readonly publicDir: string;
  /** The dev mail catcher's folder: shows its inbox (dev stack only). */
  readonly mailDir: string | undefined;
  /**
   * With NATS permissions on, the admin identity's seed file: actions (retry, drop, fire) use a
   * second connection with it, reads stay on the console's read-only role.
   */
  readonly actionsSeedFile: string | undefined;
}

/** Hosts only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

// dist/apps/console/console.config.js → <root>/apps/console/public (the image copies it there too).
const DEFAULT_PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'apps', 'console', 'public');

/**
 * Reads the console's environment. Listening beyond loopback without `CONSOLE_TOKEN` is refused:
 * the pages show users, emails and dead letters to whoever can reach the port.
 * @throws ConfigError naming each problem.
 */
export function readConsoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const e = readEnv(consoleEnv, env);
  if (!e.CONSOLE_TOKEN && !isLoopback(e.CONSOLE_HOST)) {
    throw new ConfigError([`CONSOLE_TOKEN: required when CONSOLE_HOST (${e.CONSOLE_HOST}) is not a loopback address`]);
  }
  return {
    host: e.CONSOLE_HOST,
    port: e.CONSOLE_PORT,
    token: e.CONSOLE_TOKEN,
    allowActions: e.CONSOLE_ALLOW_ACTIONS === 'true',
    publicDir: e.CONSOLE_PUBLIC_DIR ?? DEFAULT_PUBLIC_DIR,
    mailDir: e.CONSOLE_MAIL_DIR,
    actionsSeedFile: e.CONSOLE_ACTIONS_NKEY_SEED_FILE,
  };
}
